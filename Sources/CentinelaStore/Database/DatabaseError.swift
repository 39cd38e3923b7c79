import Foundation
import PostgresNIO

/// Database failures phrased for an operator: what was tried, and PostgreSQL's own reason.
///
/// PostgresNIO deliberately hides details in `PSQLError.description` (they can hold query data);
/// these messages keep the server's message, detail and hint, which never echo bound values.
public enum DatabaseError: Error, CustomStringConvertible {
    case unreachable(database: String, reason: String)
    case timedOut(database: String, after: Duration)
    /// The connection closed under work that was using it (the database stopped or the network
    /// dropped it); the work was given up.
    case connectionLost(database: String)
    case queryFailed(reason: String)

    public var description: String {
        switch self {
        case .unreachable(let database, let reason):
            "cannot connect to the database at \(database): \(reason)"
        case .timedOut(let database, let after):
            "the database at \(database) did not answer within \(after.components.seconds) s"
        case .connectionLost(let database):
            "the connection to the database at \(database) closed while in use"
        case .queryFailed(let reason):
            "database error: \(reason)"
        }
    }

    /// Whether `error` means the database cannot be reached or went away (the request may be
    /// retried later: 503), rather than a failure of the request itself.
    public static func isUnavailable(_ error: any Error) -> Bool {
        switch error {
        case let error as PSQLError:
            if [.connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed].contains(error.code) { return true }
            // Class 08: connection exception; 57P01–57P03: the server is shutting down or starting.
            guard let state = error.serverInfo?[.sqlState] else { return false }
            return state.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(state)
        case let error as DatabaseError:
            if case .queryFailed = error { return false }
            return true
        case let error as PostgresTransactionError:
            return [error.closureError, error.beginError, error.commitError].contains { $0.map(isUnavailable) ?? false }
        default:
            return isPoolOutOfReach(error)
        }
    }

    /// The pool's own error for "shut down" or "cannot connect at all" (its circuit breaker):
    /// PostgresNIO declares `ConnectionPoolError` in a module it marks internal with an underscore,
    /// so it is known here by name rather than imported. Tested against a real pool's error.
    static func isPoolOutOfReach(_ error: any Error) -> Bool {
        guard String(reflecting: type(of: error)).hasSuffix(".ConnectionPoolError") else { return false }
        let value = String(reflecting: error)
        return value.hasSuffix(".poolShutdown)") || value.hasSuffix(".connectionCreationCircuitBreakerTripped)")
    }

    /// A one-line reason for any error thrown by PostgresNIO.
    public static func reason(for error: any Error) -> String {
        if let error = error as? PSQLError {
            if let info = error.serverInfo, let message = info[.message] {
                var text = message
                if let detail = info[.detail] { text += " (\(detail))" }
                if let hint = info[.hint] { text += "; hint: \(hint)" }
                if let state = info[.sqlState] { text += " [SQLSTATE \(state)]" }
                return text
            }
            if let underlying = error.underlying {
                return reason(for: underlying)
            }
            return "\(error.code)"
        }
        if let error = error as? IOError {
            // "Connection refused", not NIO's "connection reset (error set): Connection refused) (errno: 111)".
            let text = String(cString: strerror(error.errnoCode))
            return text.prefix(1).lowercased() + text.dropFirst()
        }
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first {
                return reason(for: first.error)
            }
            if error.dnsAAAAError != nil || error.dnsAError != nil {
                return "cannot resolve the host name \(error.host)"
            }
        }
        if error is SocketAddressError {
            return "cannot resolve the host name"
        }
        if let error = error as? PostgresTransactionError {
            if let inner = error.closureError ?? error.beginError ?? error.commitError {
                return reason(for: inner)
            }
        }
        return String(describing: error)
    }

    /// The SQLSTATE of a server error, if the error came from the server.
    public static func sqlState(of error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }
}

extension DatabaseConfiguration {
    /// Opens one connection (no pool) for the length of `body`: migrations, start-up checks and
    /// one-shot commands. Connection failures come back as ``DatabaseError`` with a clear reason.
    @discardableResult
    public func withConnection<Result: Sendable>(
        logger: Logger,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let configuration: PostgresConnection.Configuration
        do {
            configuration = try connectionConfiguration()
        } catch {
            throw error
        }
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                configuration: configuration, id: 1, logger: logger)
        } catch {
            throw DatabaseError.unreachable(database: redactedDescription, reason: DatabaseError.reason(for: error))
        }
        do {
            let result = try await body(connection)
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
