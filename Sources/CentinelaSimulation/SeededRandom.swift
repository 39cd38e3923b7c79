import CentinelaCore

/// A small, fast, seedable generator (xoshiro256**, seeded through SplitMix64) whose output is the
/// same on every platform and Swift version: the simulator must be reproducible from its seed.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var splitmix = seed
        func next() -> UInt64 {
            splitmix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitmix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (next(), next(), next(), next())
    }

    /// An independent stream for a part of the simulation (a facility, a ring), so that what one
    /// part draws never shifts what another gets.
    public init(seed: UInt64, stream: UInt64, index: UInt64) {
        self.init(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03) ^ (index &* 0x8CB9_2BA7_2F3D_8DD7) &+ index)
    }

    public mutating func next() -> UInt64 {
        let result = rotate(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotate(state.3, 45)
        return result
    }

    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in 0..<bound, without modulo bias (Lemire's method).
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0)
        let b = UInt64(bound)
        var product = next().multipliedFullWidth(by: b)
        if product.low < b {
            let threshold = (0 &- b) % b
            while product.low < threshold { product = next().multipliedFullWidth(by: b) }
        }
        return Int(product.high)
    }

    public mutating func between(_ range: ClosedRange<Int>) -> Int { range.lowerBound + below(range.count) }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    public mutating func chance(_ probability: Double) -> Bool { unit() < probability }

    /// A standard normal draw (Box–Muller).
    public mutating func normal() -> Double {
        let u1 = max(unit(), 1e-300)
        let u2 = unit()
        return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
    }

    public mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// Picks by weight; `cumulative` holds running totals of the weights.
    public mutating func pick<T>(_ items: [T], cumulative: [Double]) -> T {
        let target = unit() * cumulative[cumulative.count - 1]
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] > target { high = mid } else { low = mid + 1 }
        }
        return items[low]
    }

    /// A UUID (version 4 layout) drawn from this generator: reproducible ids for simulated rows.
    public mutating func uuidBytes() -> [UInt8] {
        var bytes = withUnsafeBytes(of: next().littleEndian, Array.init) + withUnsafeBytes(of: next().littleEndian, Array.init)
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return bytes
    }

    /// Shuffles in place (Fisher–Yates) with this generator.
    public mutating func shuffle<T>(_ items: inout [T]) {
        guard items.count > 1 else { return }
        for i in stride(from: items.count - 1, to: 0, by: -1) {
            items.swapAt(i, below(i + 1))
        }
    }
}

// Elementary functions of our own rather than libm: their results are bit-for-bit the same on every
// platform, so a seed reproduces the same dataset anywhere.
@inline(__always) func _log(_ x: Double) -> Double {
    // log(x) = 2·atanh((x−1)/(x+1)), series after scaling x into [0.5, 1).
    var exponent = 0
    var m = x
    while m >= 1 {
        m /= 2
        exponent += 1
    }
    while m < 0.5 {
        m *= 2
        exponent -= 1
    }
    let y = (m - 1) / (m + 1)
    let y2 = y * y
    var term = y
    var sum = 0.0
    var n = 1.0
    for _ in 0..<30 {
        sum += term / n
        term *= y2
        n += 2
    }
    return 2 * sum + Double(exponent) * 0.693_147_180_559_945_3
}

@inline(__always) func _exp(_ x: Double) -> Double {
    // e^x = 2^k · e^r with |r| ≤ ln2/2, Taylor series for e^r.
    let k = (x / 0.693_147_180_559_945_3).rounded()
    let r = x - k * 0.693_147_180_559_945_3
    var term = 1.0
    var sum = 1.0
    for n in 1..<20 {
        term *= r / Double(n)
        sum += term
    }
    var result = sum
    if k > 0 { for _ in 0..<Int(k) { result *= 2 } } else if k < 0 { for _ in 0..<Int(-k) { result /= 2 } }
    return result
}

@inline(__always) func _cos(_ x: Double) -> Double {
    var r = x.truncatingRemainder(dividingBy: 2 * Double.pi)
    if r > Double.pi { r -= 2 * Double.pi } else if r < -Double.pi { r += 2 * Double.pi }
    let r2 = r * r
    var term = 1.0
    var sum = 1.0
    for n in stride(from: 2, to: 40, by: 2) {
        term *= -r2 / Double((n - 1) * n)
        sum += term
    }
    return sum
}
