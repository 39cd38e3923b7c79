import CentinelaCore
import CentinelaStore
import HTTPTypes
import Hummingbird
import Logging
import PostgresNIO

/// The request context every Centinela route receives.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The caller, once ``AuthenticationMiddleware`` has resolved the bearer token.
    public var principal: Principal?
    /// The client's IP address, for the limits on failed authentication.
    public var clientAddress: String?
    /// On console pages: the language and the signed-in session (``ConsoleMiddleware``).
    var consoleVisit: ConsoleVisit?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.clientAddress = source.channel.remoteAddress?.ipAddress
    }

    /// The caller as a use case knows it: the principal and this request's id.
    func caller(_ principal: Principal) -> Caller { Caller(principal: principal, requestID: id) }

    /// The facility named by the path's `{id}`; a malformed id is simply not found.
    func facilityID() throws(Problem) -> Facility.ID {
        guard let text = parameters.get("id"), let id = Facility.ID(uuidString: text) else {
            throw Problem.notFound("No facility with this id.")
        }
        return id
    }

    /// The caller of case work (reports, risk scores): schools and regulators; the operator, who
    /// administers the service, reads no case (403). `what` names the data in the refusal.
    func requireCaseHandler(_ what: String) throws(Problem) -> Principal {
        let principal = try requirePrincipal()
        guard principal.role != .admin else {
            throw Problem.forbidden("\(what) are for schools and regulators; the operator reads no case.").saying(
                "{what} are for schools and regulators; the operator reads no case.", ["what": what])
        }
        return principal
    }

    /// The authenticated caller; routes under /v1 always have one.
    func requirePrincipal() throws(Problem) -> Principal {
        guard let principal else { throw Problem.unauthorized("Send an API token as Authorization: Bearer <token>.") }
        return principal
    }
}

/// What the routes need from the outside world, each behind a small protocol.
public struct ApplicationDependencies: Sendable {
    public var databaseHealth: any DatabaseHealthChecking
    public var database: ServiceDatabase
    public var limits: HTTPConfiguration
    /// Nil when no key is configured: national identifiers are then refused.
    public var nationalIDs: NationalIDHasher?
    /// Wakes live alert streams; run as a service beside the server.
    public var alertFeed: AlertFeed
    public var metrics: ServiceMetrics
    /// The bearer token `/metrics` requires; nil leaves it open.
    public var metricsToken: String?
    /// Filing reports, shared by the API and the console: reports filed at the same moment are
    /// written together (``ReportIntake``).
    public var intake: ReportIntake

    public init(
        databaseHealth: any DatabaseHealthChecking, database: ServiceDatabase, limits: HTTPConfiguration = .init(),
        nationalIDs: NationalIDHasher? = nil, alertFeed: AlertFeed, metrics: ServiceMetrics = ServiceMetrics(),
        metricsToken: String? = nil
    ) {
        self.databaseHealth = databaseHealth
        self.database = database
        self.limits = limits
        self.nationalIDs = nationalIDs
        self.alertFeed = alertFeed
        self.metrics = metrics
        self.metricsToken = metricsToken
        self.intake = ReportIntake(database: database)
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
    nationalIDs: NationalIDHasher? = nil,
    riskModel: RiskModel = .v2,
    alertHeartbeat: Duration = .seconds(15),
    webhookRetry: WebhookRetryPolicy = .init(),
    webhookPoll: Duration = .seconds(1),
    caseGroupWait: Duration = .seconds(30),
    metrics: ServiceMetrics = ServiceMetrics(),
    metricsToken: String? = nil,
    auditCheckpoints: AuditCheckpointing? = nil,
    auditPoll: Duration = .milliseconds(200),
    logger: Logger
) throws -> some ApplicationProtocol {
    // The console's templates and catalogs are part of the build: a broken one stops serve here.
    _ = try ConsoleRenderer.shared.get()
    let client = PostgresClient(configuration: try database.clientConfiguration(), backgroundLogger: logger)
    let feed = AlertFeed(database: database, heartbeat: alertHeartbeat, logger: logger)
    let usage = DatabaseUsage(maximum: database.maximumConnections)
    let dependencies = ApplicationDependencies(
        databaseHealth: PostgresHealthCheck(client: client, migrations: migrations, logger: logger),
        database: ServiceDatabase(client: client, logger: logger, usage: usage, leaseTimeout: database.connectionWait),
        limits: configuration,
        nationalIDs: nationalIDs,
        alertFeed: feed,
        metrics: metrics,
        metricsToken: metricsToken)
    let router = buildRouter(dependencies)
    return Application(
        router: router,
        server: .http1(configuration: .init(idleTimeout: .nanoseconds(Int64(configuration.idleTimeout / .nanoseconds(1))))),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port)),
        // The pool first: the rescoring worker uses it, and stops before it on shutdown.
        services: [
            client,
            // Stops after every writer before it in this list (services stop in reverse order),
            // and integrates once more as it does, so that their last events are chained.
            AuditSequencerService(
                client: client, sequencer: AuditSequencer(checkpoints: auditCheckpoints, logger: logger), pollInterval: auditPoll,
                logger: logger),
            // Likewise: places the events of the writers after it in the live stream, once more as it stops.
            StreamSequencerService(client: client, database: database, sequencer: StreamSequencer(logger: logger), logger: logger),
            RescoreWorker(client: client, database: database, rescorer: Rescorer(model: riskModel, logger: logger), usage: usage),
            LinkingWorker(client: client, database: database, usage: usage, logger: logger),
            feed,
            WebhookDeliverer(
                client: client, feed: feed, policy: webhookRetry, pollInterval: webhookPoll, caseGroupWait: caseGroupWait,
                metrics: metrics, usage: usage, targets: configuration.webhookTargets, logger: logger),
        ],
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
    let router = servingRouter(dependencies)
    router.refuseOtherMethods(on: servedRoutes(of: router))
    return router
}

/// Every route of the API, with its methods (HEAD wherever GET is): what the OpenAPI document
/// must describe (the console's pages at /console are not the API's). Read back from Hummingbird's own registry, so it cannot drift from
/// what is served.
public func servedRoutes(_ dependencies: ApplicationDependencies) -> [String: [HTTPRequest.Method]] {
    servedRoutes(of: servingRouter(dependencies)).filter { !$0.key.hasPrefix("/console") }
}

/// The router with every route that serves something, before the 405 answers are added.
func servingRouter(_ dependencies: ApplicationDependencies) -> Router<AppRequestContext> {
    // HEAD is answered wherever GET is, as HTTP expects (Hummingbird does not do it by default).
    let router = Router(context: AppRequestContext.self, options: .autoGenerateHeadEndpoints)
    // Outermost first: requests are counted with the status the client gets; every response,
    // errors included, carries the request id.
    router.add(middleware: RequestMetricsMiddleware(metrics: dependencies.metrics))
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: ProblemMiddleware(typeBase: dependencies.limits.problemTypeBase))
    router.addRoutes(HealthController(database: dependencies.databaseHealth).routes)
    let metrics = MetricsController(
        metrics: dependencies.metrics, database: dependencies.database, token: dependencies.metricsToken,
        logger: dependencies.database.logger)
    router.get("metrics") { request, context in try await metrics.scrape(request, context: context) }
    OpenAPIDocument.register(on: router)

    let (database, limits) = (dependencies.database, dependencies.limits)
    let api = router.group("v1").add(middleware: AuthenticationMiddleware(database: database, limits: limits))
    for routes in [
        FacilityController(database: database, limits: limits).routes,
        ReportController(database: database, limits: limits, metrics: dependencies.metrics, intake: dependencies.intake).routes,
        RosterController(database: database, limits: limits, nationalIDs: dependencies.nationalIDs).routes,
        RiskController(database: database, limits: limits).routes,
        AlertController(database: database, limits: limits, feed: dependencies.alertFeed).routes,
        WebhookController(database: database, limits: limits).routes,
        LinkController(database: database, limits: limits).routes,
        PatternController(database: database, limits: limits).routes,
        CaseController(database: database, limits: limits).routes,
        PersonController(database: database).routes,
    ] {
        api.addRoutes(routes)
    }

    // The web console: the same use cases behind a session cookie instead of a bearer token.
    let console = ConsoleController(database: database, limits: limits)
    router.group("console/static").addRoutes(console.assetRoutes)
    let pages = router.group("console").add(middleware: ConsoleMiddleware(sessions: console.sessions))
    for routes in [
        console.routes,
        ConsoleCasePages(database: database, limits: limits, feed: dependencies.alertFeed, sessions: console.sessions).routes,
        ConsoleAlertPages(database: database, limits: limits).routes,
        ConsoleMapPage(database: database).routes,
        ConsoleFacilityPage(database: database, limits: limits).routes,
        ConsoleReviewPage(database: database, limits: limits).routes,
        ConsoleCaseFile(database: database).routes,
        ConsolePatternPages(database: database).routes,
        ConsoleRosterPage(database: database, limits: limits).routes,
        ConsoleReportPages(database: database, limits: limits, metrics: dependencies.metrics, intake: dependencies.intake).routes,
    ] {
        pages.addRoutes(routes)
    }
    return router
}

/// Path → methods of a router's routes, HEAD wherever GET is.
func servedRoutes(of router: Router<AppRequestContext>) -> [String: [HTTPRequest.Method]] {
    var routes: [String: [HTTPRequest.Method]] = [:]
    for route in router.routes {
        let path = route.path.description
        for method in route.method == .get ? [.get, .head] : [route.method] where !(routes[path] ?? []).contains(method) {
            routes[path, default: []].append(method)
        }
    }
    return routes
}

extension Router {
    /// Hummingbird answers 404 for a known path with an unregistered method; HTTP says 405 with an
    /// `Allow` header, which tells a client its mistake instead of suggesting the resource is gone.
    func refuseOtherMethods(on routes: [String: [HTTPRequest.Method]]) {
        let all: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options, .trace]
        for (path, allowed) in routes {
            for method in all where !allowed.contains(method) {
                self.on(RouterPath(path), method: method) { _, _ -> Response in
                    throw Problem.methodNotAllowed(allowed: allowed)
                }
            }
        }
    }
}
