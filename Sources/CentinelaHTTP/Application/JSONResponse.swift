import Foundation
import HTTPTypes
import Hummingbird

/// A JSON body with a chosen status, encoded the same way everywhere: sorted keys (stable for
/// diffing and caching), ISO 8601 dates.
struct JSONResponse<Body: Encodable & Sendable>: ResponseGenerator {
    var status: HTTPResponse.Status = .ok
    var body: Body
    /// The language of the body's words, when they follow `Accept-Language` (risk reasons):
    /// sent as `Content-Language`, with `Vary: Accept-Language` for caches.
    var language: ConsoleLanguage? = nil

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try JSONResponseEncoding.encoder.encode(body)
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"]
        if let page = body as? any PagedBody, let next = page.nextCursor {
            headers[HTTPField.Name("Link")!] = "<\(request.nextPage(next))>; rel=\"next\""
        }
        if let language {
            headers[.contentLanguage] = language.tag
            headers[.vary] = "Accept-Language"
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
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
///
/// The one paginator: every list fetches `limit + 1` rows and makes its page with
/// ``init(rows:limit:position:item:)``; the response also carries the next page as a `Link`
/// header (RFC 8288, `rel="next"`), the request's own query with the cursor replaced.
struct Page<Item: Encodable & Sendable>: Encodable, Sendable, PagedBody {
    var items: [Item]
    @Nullable var nextCursor: String?
    /// With `?total=true`: how many items the whole list holds, on every page; absent otherwise.
    var total: Int?

    init(items: [Item], nextCursor: String?, total: Int? = nil) {
        self.items = items
        self.nextCursor = nextCursor
        self.total = total
    }

    /// A page of rows fetched as `limit + 1`: the first `limit` as items, and when a further row
    /// shows that another page follows, the cursor at the last one kept (`position`, made opaque).
    init<Row>(rows: [Row], limit: Int, total: Int? = nil, position: (Row) -> String, item: (Row) throws -> Item) rethrows {
        let kept = rows.prefix(limit)
        self.init(
            items: try kept.map(item), nextCursor: rows.count > limit ? kept.last.map { Cursor.encode(position($0)) } : nil, total: total)
    }
}

/// A body that is a page of a list, for the `Link` header ``JSONResponse`` adds.
protocol PagedBody {
    var nextCursor: String? { get }
}

extension Request {
    /// This request's path and query with `cursor` set to `next`: the next page's address, as a
    /// reference relative to the request (RFC 8288, § 3.2).
    func nextPage(_ next: String) -> String {
        let others = (uri.query ?? "").split(separator: "&").filter { !$0.hasPrefix("cursor=") && $0 != "cursor" }
        return uri.path + "?" + (others.map(String.init) + ["cursor=" + next]).joined(separator: "&")
    }
}
