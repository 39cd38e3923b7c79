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
