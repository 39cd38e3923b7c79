import Foundation
import Testing

@testable import CentinelaHTTP

/// The request reader on its own: RFC 8259 JSON, strictly, with keys given twice refused.
@Suite struct JSONReaderTests {
    @Test(
        arguments: [
            (#"{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}"#, nil),
            (#"{"a":"a","b":"a","c":["a","a"]}"#, nil),
            (#"{"a":1,"a":2}"#, "a"),
            (#"{"a":{"b":1,"b":2}}"#, "b"),
            (#"[{"x":1},{"x":2,"y":{"z":1},"x":3}]"#, "x"),
            (#"{"é":1,"\u00e9":2}"#, "é"),
            (#"{"é":1,"e\u0301":2}"#, "é"),
            (#"{"q\"":1,"q\"":2}"#, "q\""),
            (#"{"a\\":1,"b":"\\","a\\":2}"#, "a\\"),
            (#"{"a":{"b":1,"b":2},"a":3}"#, "b"),
        ] as [(String, String?)])
    func findsTheFirstKeyGivenTwiceInOneObject(_ json: String, _ duplicate: String?) throws {
        if let duplicate {
            #expect(throws: JSONReader.Failure.duplicateKey(duplicate)) { try JSONReader.read(json.utf8) }
        } else {
            #expect(throws: Never.self) { try JSONReader.read(json.utf8) }
        }
    }

    @Test(
        arguments: [
            (
                #"{"a":[1,-2.5,3e2,0,-0,1E-2,true,false,null,"x"]}"#,
                JSONValue.object([
                    "a": .array([
                        .number(1), .number(-2.5), .number(300), .number(0), .number(0), .number(0.01), .bool(true), .bool(false), .null,
                        .string("x"),
                    ])
                ])
            ),
            (" \t\r\n{ \"a\" : [ ] , \"b\" : { } } \n", .object(["a": .array([]), "b": .object([:])])),
            (#""\"\\\/\b\f\n\r\t""#, .string("\"\\/\u{8}\u{C}\n\r\t")),
            (#""\u00e9\u00C9 Pe\u00f1a \ud83d\ude00 \u0000""#, .string("éÉ Peña 😀 \u{0}")),
            ("\"María 😀 漢字\"", .string("María 😀 漢字")),
            ("12", .number(12)),
            ("null", .null),
        ] as [(String, JSONValue)])
    func readsEveryKindOfValue(_ json: String, _ expected: JSONValue) throws {
        #expect(try JSONReader.read(json.utf8) == expected)
    }

    @Test(arguments: [
        "", " ", "{", "}", "[1,]", "[,1]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "{'a':1}", "[1 2]", "01", "-", "1.", ".5", "1e", "1e+",
        "+1", "0x10", "NaN", "Infinity", "1e400", "tru", "nul", "truee", "[true false]", "\"abc", "\"a\u{1}b\"", "\"a\tb\"",
        #""\x""#, #""\u12""#, #""\u12g4""#, #""\ud83d""#, #""\ud83d\u0041""#, #""\ude00""#, "{\"a\":1}x", "[1]]", "\u{FEFF}{}",
        "/* */ {}", "[1] // c",
    ])
    func refusesWhatIsNotJSON(_ json: String) {
        #expect(throws: JSONReader.Failure.invalid, "\(json.debugDescription)") { try JSONReader.read(json.utf8) }
    }

    @Test func refusesStringsThatAreNotUTF8() {
        #expect(throws: JSONReader.Failure.notUTF8) { try JSONReader.read([0x22, 0x61, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONReader.Failure.notUTF8) { try JSONReader.read([0x22, 0xED, 0xA0, 0x80, 0x22]) }
        #expect(throws: JSONReader.Failure.invalid) { try JSONReader.read([0xC3, 0xA9]) }
    }

    @Test func nestingIsBoundedInsteadOfExhaustingTheStack() throws {
        let deep = JSONReader.maximumDepth
        let deepest = String(repeating: "[", count: deep) + String(repeating: "]", count: deep)
        #expect(throws: Never.self) { try JSONReader.read(deepest.utf8) }
        let endless = String(repeating: "[", count: 100_000)
        #expect(throws: JSONReader.Failure.invalid) { try JSONReader.read(endless.utf8) }
        let opened: String = String(repeating: "{\"a\":", count: deep + 1)
        let closed: String = String(repeating: "}", count: deep + 1)
        let tooDeep = opened + "1" + closed
        #expect(throws: JSONReader.Failure.invalid) { try JSONReader.read(tooDeep.utf8) }
    }

    /// Whatever Foundation's encoder writes, the reader reads back as the same value: random
    /// documents (seeded), with the awkward characters JSON must escape.
    @Test func readsBackWhatFoundationWrites() throws {
        var generator = SplitMix(state: 24)
        let alphabet: [String] = ["a", "Z", "é", "ñ", "\"", "\\", "/", "\n", "\t", "\u{1}", "\u{1F}", "😀", "漢", "\u{301}", " ", "0"]
        func string() -> String {
            (0..<Int.random(in: 0...8, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }.joined()
        }
        func value(_ depth: Int) -> JSONValue {
            switch Int.random(in: 0...(depth > 3 ? 3 : 5), using: &generator) {
            case 0: return .null
            case 1: return .bool(Bool.random(using: &generator))
            case 2: return .number([0, -1, 42, 0.5, -1e-7, 1.5e300, 123_456_789_012].randomElement(using: &generator)!)
            case 3: return .string(string())
            case 4: return .array((0..<Int.random(in: 0...4, using: &generator)).map { _ in value(depth + 1) })
            default:
                var fields: [String: JSONValue] = [:]
                for _ in 0..<Int.random(in: 0...4, using: &generator) { fields[string()] = value(depth + 1) }
                return .object(fields)
            }
        }
        for _ in 0..<500 {
            let document = value(0)
            let text = try JSONEncoder().encode(document)
            #expect(try JSONReader.read(text) == document, "\(String(decoding: text, as: UTF8.self))")
        }
    }
}

/// SplitMix64: the same documents on every run.
private struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
