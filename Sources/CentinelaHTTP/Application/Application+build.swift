import CentinelaStore
import HTTPTypes
import Hummingbird
import Logging
import PostgresNIO

/// The request context every Centinela route receives.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }
}

/// What the routes need from the outside world, each behind a small protocol.
public struct ApplicationDependencies: Sendable {
    public var databaseHealth: any DatabaseHealthChecking

    public init(databaseHealth: any DatabaseHealthChecking) {
        self.databaseHealth = databaseHealth
    }
}

/// Builds the HTTP application `centinela serve` runs; tests build the same one.
///
/// The database schema is checked (or migrated) by the caller before this is run: serving starts
/// only on a database whose schema matches this build.
public func buildApplication(
    configuration: HTTPConfiguration,
    database: DatabaseConfiguration,
    migrations: MigrationSet,
    logger: Logger
) throws -> some ApplicationProtocol {
    let client = PostgresClient(configuration: try database.clientConfiguration(), backgroundLogger: logger)
    let dependencies = ApplicationDependencies(
        databaseHealth: PostgresHealthCheck(client: client, migrations: migrations, logger: logger))
    let router = buildRouter(dependencies)
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
        services: [client],
        onServerRunning: { channel in
            let address = channel.localAddress
            logger.notice(
                "centinela is serving",
                metadata: [
                    "address": "\(address?.ipAddress ?? configuration.host)",
                    "port": "\(address?.port ?? configuration.port)",
                    "database": "\(database.redactedDescription)",
                ])
        },
        logger: logger
    )
}

/// The routes and the middleware around them, separate from the server so that tests can run
/// them with other dependencies.
public func buildRouter(_ dependencies: ApplicationDependencies) -> Router<AppRequestContext> {
    let router = Router(context: AppRequestContext.self)
    // Outermost first: every response, errors included, carries the request id.
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: ProblemMiddleware())
    router.addRoutes(HealthController(database: dependencies.databaseHealth).endpoints)
    router.refuseOtherMethods(on: ["/healthz", "/readyz"], allowed: [.get, .head])
    return router
}

extension Router {
    /// Hummingbird answers 404 for a known path with an unregistered method; HTTP says 405 with an
    /// `Allow` header, which tells a client its mistake instead of suggesting the resource is gone.
    func refuseOtherMethods(on paths: [String], allowed: [HTTPRequest.Method]) {
        let all: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options]
        for path in paths {
            for method in all where !allowed.contains(method) {
                self.on(RouterPath(path), method: method) { _, _ -> Response in
                    throw Problem.methodNotAllowed(allowed: allowed)
                }
            }
        }
    }
}
