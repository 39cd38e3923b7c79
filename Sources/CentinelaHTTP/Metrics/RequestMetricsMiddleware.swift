import Hummingbird

/// Counts and times every request by its route's pattern, method and final status. Outermost, so
/// it sees the status the client gets (problem documents included). The time is to the response,
/// not to the end of its body: a live alert stream would otherwise count as a request of hours.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServiceMetrics

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    )
        async throws -> Response
    {
        let start = ContinuousClock.now
        // The pattern, never the path as requested: a path can hold ids, and unknown paths are
        // unbounded; anything that matched no route is one series.
        let route = context.endpointPath ?? "unmatched"
        let method = request.method.rawValue
        do {
            let response = try await next(request, context)
            metrics.requestAnswered(
                route: route, method: method, status: Int(response.status.code), duration: ContinuousClock.now - start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.requestAnswered(route: route, method: method, status: Int(status), duration: ContinuousClock.now - start)
            throw error
        }
    }
}
