import CentinelaHTTP
import CentinelaStore
import CentinelaTestSupport
import PostgresNIO

extension ApplicationDependencies {
    /// For routes that never reach the database, and for reading the router's registry: the
    /// database is always ready and its client is never even run.
    static var offline: ApplicationDependencies {
        struct AlwaysReady: DatabaseHealthChecking {
            func check() async -> DatabaseHealth { .ready(SchemaStatus(applied: ["0001_core"], pending: [])) }
        }
        let unused = PostgresClient(configuration: .init(unixSocketPath: "/nonexistent", username: "x", password: nil, database: "x"))
        return ApplicationDependencies(
            databaseHealth: AlwaysReady(), database: ServiceDatabase(client: unused, logger: TestDatabase.logger),
            alertFeed: AlertFeed(
                database: DatabaseConfiguration(
                    endpoint: .unixSocket(directory: "/nonexistent", port: 5432), username: "x", password: nil, database: "x",
                    tlsMode: .disable),
                logger: TestDatabase.logger))
    }
}
