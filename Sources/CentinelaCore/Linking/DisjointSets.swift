/// Disjoint sets (union–find with path halving): which elements have been joined into one group.
/// The smaller element of two joined roots becomes the root, so groups come out the same whatever
/// the order of the joins. Persons, patterns and networks are all groups of this kind.
struct DisjointSets<Element: Hashable & Comparable> {
    private var parent: [Element: Element] = [:]

    init() {}

    init(_ elements: some Sequence<Element>) {
        for element in elements { parent[element] = element }
    }

    /// The root of the element's group; an element never seen is a group of its own.
    mutating func find(_ element: Element) -> Element {
        var x = element
        while let p = parent[x], p != x {
            let grandparent = parent[p] ?? p
            parent[x] = grandparent
            x = grandparent
        }
        if parent[x] == nil { parent[x] = x }
        return x
    }

    /// Joins the two elements' groups; returns the root of the joined group.
    @discardableResult
    mutating func union(_ a: Element, _ b: Element) -> Element {
        let (x, y) = (find(a), find(b))
        guard x != y else { return x }
        let (root, child) = x < y ? (x, y) : (y, x)
        parent[child] = root
        return root
    }
}
