import Foundation
import HTTPTypes
import Hummingbird

/// A JSON body with a chosen status, encoded the same way everywhere: sorted keys (stable for
/// diffing and caching), ISO 8601 dates.
struct JSONResponse<Body: Encodable & Sendable>: ResponseGenerator {
    var status: HTTPResponse.Status = .ok
    var body: Body

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try JSONResponseEncoding.encoder.encode(body)
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

enum JSONResponseEncoding {
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}

/// An optional field of a response body written as `null` when absent, where the synthesized
/// encoding would leave it out: a reader sees that the field exists and is empty.
@propertyWrapper
struct Nullable<Value: Encodable & Sendable>: Encodable, Sendable {
    var wrappedValue: Value?

    init(wrappedValue: Value?) {
        self.wrappedValue = wrappedValue
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

/// One page of a list, the same for every list of the API: its items and `nextCursor`, the value
/// of `cursor` for the next page, `null` on the last one. The field is always there, so a client
/// pages with one test (`while nextCursor != null`); the synthesized encoding left it out on the
/// last page, which the contract of `GET /v1/cases` said it must not (schemathesis found it).
struct Page<Item: Encodable & Sendable>: Encodable, Sendable {
    var items: [Item]
    @Nullable var nextCursor: String?

    init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}
