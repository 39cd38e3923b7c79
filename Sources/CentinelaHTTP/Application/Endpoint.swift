import HTTPTypes
import Hummingbird

/// One endpoint of a controller, written down once: the router registers it from here, and the
/// 405 answers and the OpenAPI contract test read its path and method from the same place.
struct Endpoint<Controller: Sendable>: Sendable {
    let method: HTTPRequest.Method
    /// Below /v1, e.g. `reports/{id}`.
    let path: String
    let handler: @Sendable (Controller, Request, AppRequestContext) async throws -> Response

    init<Output: ResponseGenerator>(
        _ method: HTTPRequest.Method, _ path: String,
        _ handler: @escaping @Sendable (Controller) -> @Sendable (Request, AppRequestContext) async throws -> Output
    ) {
        self.method = method
        self.path = path
        self.handler = { controller, request, context in
            try await handler(controller)(request, context).response(from: request, context: context)
        }
    }
}

extension Array {
    /// Full path → methods answered (HEAD wherever GET is), for 405 answers and the contract test.
    func routeTable<Controller>() -> [String: [HTTPRequest.Method]] where Element == Endpoint<Controller> {
        var table: [String: [HTTPRequest.Method]] = [:]
        for endpoint in self {
            table["/v1/" + endpoint.path, default: []] += endpoint.method == .get ? [.get, .head] : [endpoint.method]
        }
        return table
    }
}

extension RouterGroup where Context == AppRequestContext {
    func register<Controller>(_ controller: Controller, _ endpoints: [Endpoint<Controller>]) {
        for endpoint in endpoints {
            on(RouterPath(endpoint.path), method: endpoint.method) { request, context in
                try await endpoint.handler(controller, request, context)
            }
        }
    }
}
