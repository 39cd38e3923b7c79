import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Asks a running `centinela serve` whether it is ready: what a container's HEALTHCHECK runs, so
/// the image needs no curl. Ready means `/readyz` answered 200 within the time given.
public enum ReadinessProbe {
    public enum Outcome: Sendable, Equatable {
        case ready
        /// The server answered, but not 200 (the body says why, e.g. the database is down).
        case notReady(status: Int, body: String)
        /// No answer: nothing listening, a timeout, a bad address.
        case unreachable(String)
    }

    public static func check(_ url: String, timeout: Duration = .seconds(5)) async -> Outcome {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .init(timeout))
            let body = try await response.body.collect(upTo: 64 * 1024)
            guard response.status.code == 200 else {
                return .notReady(status: Int(response.status.code), body: String(buffer: body))
            }
            return .ready
        } catch {
            return .unreachable(String(describing: error))
        }
    }
}
