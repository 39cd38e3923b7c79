import Foundation

extension RiskAssessment {
    /// The assessment as compact JSON with sorted keys, written by hand: a full rescoring encodes
    /// hundreds of thousands of assessments, and the generic `JSONEncoder` spent most of a run's
    /// time doing so. Same assessment, same bytes; `RiskAssessment.decoder` reads it back.
    public var canonicalJSON: String {
        var out = JSONWriter()
        out.object {
            $0.field("asOf") { $0.string(RiskAssessment.timestamp(asOf)) }
            $0.field("band") { $0.string(band.rawValue) }
            $0.field("facilityID") { $0.string(facilityID.description) }
            if let floor {
                $0.field("floor") {
                    $0.object {
                        $0.field("band") { $0.string(floor.band.rawValue) }
                        $0.field("reports") { $0.array(floor.reports) { $0.string($1.description) } }
                        $0.field("rule") { $0.string(floor.rule) }
                    }
                }
            }
            $0.field("load") { $0.number(load) }
            if let manualOverride {
                $0.field("manualOverride") {
                    $0.object {
                        $0.field("band") { $0.string(manualOverride.band.rawValue) }
                        $0.field("expiresAt") { $0.string(RiskAssessment.timestamp(manualOverride.expiresAt)) }
                        $0.field("reason") { $0.string(manualOverride.reason) }
                        $0.field("setAt") { $0.string(RiskAssessment.timestamp(manualOverride.setAt)) }
                        if let setBy = manualOverride.setBy { $0.field("setBy") { $0.string(setBy) } }
                    }
                }
            }
            $0.field("modelBand") { $0.string(modelBand.rawValue) }
            $0.field("modelID") { $0.string(modelID) }
            $0.field("reasons") { $0.array(reasons) { $0.reason($1) } }
            $0.field("score") { $0.number(score) }
            $0.field("total") { $0.number(total) }
        }
        return out.text
    }
}

/// A minimal JSON writer into UTF-8 bytes: objects are written with their keys in the order given
/// (sorted by the caller), numbers in Swift's shortest round-trip form.
struct JSONWriter {
    private var bytes: [UInt8] = []

    init() {
        bytes.reserveCapacity(4096)
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }

    struct Object {
        fileprivate var writer: JSONWriter
        fileprivate var first = true

        mutating func field(_ name: String, _ value: (inout JSONWriter) -> Void) {
            if !first { writer.bytes.append(UInt8(ascii: ",")) }
            first = false
            writer.string(name)
            writer.bytes.append(UInt8(ascii: ":"))
            value(&writer)
        }
    }

    mutating func object(_ fields: (inout Object) -> Void) {
        bytes.append(UInt8(ascii: "{"))
        // The object takes the buffer while it is written, so that appends never copy it.
        var object = Object(writer: self)
        bytes = []
        fields(&object)
        self = object.writer
        bytes.append(UInt8(ascii: "}"))
    }

    mutating func array<Element>(_ items: [Element], _ item: (inout JSONWriter, Element) -> Void) {
        bytes.append(UInt8(ascii: "["))
        for (index, element) in items.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            item(&self, element)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        // Nearly every string (ids, codes, summaries) needs no escaping: append it whole.
        guard value.utf8.contains(where: { $0 == 0x22 || $0 == 0x5C || $0 < 0x20 }) else {
            bytes.append(contentsOf: value.utf8)
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in value.utf8 {
            switch byte {
            case 0x22: bytes.append(contentsOf: "\\\"".utf8)
            case 0x5C: bytes.append(contentsOf: "\\\\".utf8)
            case 0x0A: bytes.append(contentsOf: "\\n".utf8)
            case 0x0D: bytes.append(contentsOf: "\\r".utf8)
            case 0x09: bytes.append(contentsOf: "\\t".utf8)
            case _ where byte < 0x20:
                let hex = String(byte, radix: 16)
                bytes.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).utf8)
            default: bytes.append(byte)  // UTF-8 continuation and lead bytes pass through unchanged
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func number(_ value: Double) {
        if value == value.rounded(), abs(value) < 1e15 {
            integer(Int64(value))
        } else {
            bytes.append(contentsOf: value.description.utf8)
        }
    }

    /// Digits written directly: most numbers in an assessment are whole (caps, counts).
    private mutating func integer(_ value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for index in stride(from: count - 1, through: 0, by: -1) { bytes.append(buffer[index]) }
        }
    }

    mutating func reason(_ reason: RiskAssessment.Reason) {
        object {
            if let cap = reason.cap { $0.field("cap") { $0.number(cap) } }
            $0.field("code") { $0.string(reason.code.rawValue) }
            $0.field("evidence") { $0.array(reason.evidence) { $0.evidence($1) } }
            if let omitted = reason.omittedEvidence { $0.field("omittedEvidence") { $0.number(Double(omitted)) } }
            $0.field("points") { $0.number(reason.points) }
            $0.field("summary") { $0.string(reason.summary) }
            $0.field("value") { $0.number(reason.value) }
        }
    }

    mutating func evidence(_ evidence: RiskAssessment.Evidence) {
        object {
            if let adult = evidence.adult { $0.field("adult") { $0.string(adult) } }
            if let contribution = evidence.contribution { $0.field("contribution") { $0.number(contribution) } }
            if let decay = evidence.decay { $0.field("decay") { $0.number(decay) } }
            if let note = evidence.note { $0.field("note") { $0.string(note) } }
            if let report = evidence.report { $0.field("report") { $0.string(report.description) } }
            if let reports = evidence.reports { $0.field("reports") { $0.array(reports) { $0.string($1.description) } } }
            if let weight = evidence.weight { $0.field("weight") { $0.number(weight) } }
        }
    }
}
