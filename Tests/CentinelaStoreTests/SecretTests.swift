import CentinelaStore
import Foundation
import Testing

@Suite struct SecretTests {
    @Test func tokensAreRandomRecognisableAndStrictlyParsed() {
        let a = TokenSecret.generate()
        let b = TokenSecret.generate()
        #expect(a != b)
        #expect(a.value.hasPrefix("cen_"))
        #expect(a.value.count == 47)
        #expect(TokenSecret(presented: a.value) == a)
        #expect(a.displayPrefix.count == 12)
        #expect(a.sha256.count == 32)
        for bad in ["", "cen_", String(a.value.dropLast()), a.value + "A", "xyz_" + a.value.dropFirst(4), String(a.value.prefix(46)) + "!"]
        {
            #expect(TokenSecret(presented: bad) == nil, "\(bad)")
        }
    }

    @Test func nationalIdentifiersHashByKeyAfterNormalising() throws {
        let key = try #require(NationalIDHasher(key: Data(repeating: 1, count: 32)))
        let other = try #require(NationalIDHasher(key: Data(repeating: 2, count: 32)))
        #expect(key.hash("GODE561231HDFRRL09") == key.hash("gode 561231-hdfrrl09"))
        #expect(key.hash("GODE561231HDFRRL09") != other.hash("GODE561231HDFRRL09"))
        #expect(key.hash("GODE561231HDFRRL09")?.count == 32)
        #expect(key.hash("¡no!") == nil)
        #expect(key.hash("AB") == nil)
        #expect(NationalIDHasher(key: Data(repeating: 1, count: 16)) == nil)
    }
}
