/// Something a `MinHeap` can order: `precedes` is a strict "comes first".
protocol HeapOrdered {
    func precedes(_ other: Self) -> Bool
}

/// A binary min-heap. The desk keeps queue candidates and escalation deadlines in these, with
/// lazy deletion: stale entries are checked and dropped when they reach the top.
struct MinHeap<Element: HeapOrdered & Sendable>: Sendable {
    private var entries: [Element] = []

    var count: Int { entries.count }

    func peek() -> Element? { entries.first }

    mutating func push(_ entry: Element) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].precedes(entries[parent]) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard !entries.isEmpty else { return nil }
        entries.swapAt(0, entries.count - 1)
        let top = entries.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var first = parent
            if left < entries.count, entries[left].precedes(entries[first]) { first = left }
            if right < entries.count, entries[right].precedes(entries[first]) { first = right }
            if first == parent { break }
            entries.swapAt(parent, first)
            parent = first
        }
        return top
    }
}
