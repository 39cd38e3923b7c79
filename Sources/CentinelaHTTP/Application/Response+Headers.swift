import HTTPTypes
import Hummingbird

extension Response {
    /// The response with one more header: for a `Location` or a `Retry-After` on a response
    /// built elsewhere.
    func withHeader(_ name: HTTPField.Name, _ value: String) -> Response {
        var response = self
        response.headers[name] = value
        return response
    }
}
