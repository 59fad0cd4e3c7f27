import CSearchKernels

/// A plan for many sums of shifted rows that computes the partial sums they share once.
///
/// Target `T` is `O_T[u] = sum_i X_i[u + s(T, i)]` over the leaf rows `X_i`. The leaves are grouped
/// in a fixed hierarchy of consecutive blocks (`radices` `[4, 4]`: blocks of 4 leaves, then blocks
/// of 4 such blocks, then the whole). Inside a block, the targets whose shifts differ only by a
/// constant (the same shifts relative to the block's smallest) need the same partial sum, shifted;
/// the plan makes one node for each distinct relative shift vector of each block and sums it once.
/// Dedispersion trials close in DM shift neighbouring channels (or subbands) alike, so most blocks
/// have far fewer distinct vectors than there are trials: ``additions(tile:)`` counts what is left.
///
/// The same terms are summed as by the flat sum of each target's rows (`radices` `[]` is exactly
/// that, in leaf order); with a hierarchy only the order of the additions differs (float rounding).
///
/// **Lengths.** A node is computed over `tile + extra` samples so that every parent reading it at
/// its offset finds what it needs; a target over `tile + targetExtra[T]`. With every node's base
/// (the absolute shift its sample 0 stands for) the smallest its parents need, ``leafReach`` is, for
/// each leaf, exactly the furthest sample any target reads: `max_T(targetExtra[T] + s(T, i))` past
/// `first + tile`.
struct ShiftSumPlan: Sendable {
    /// One row a node sums: another node (`source >= 0`) or leaf `-source - 1`, at `offset` samples
    /// (into the node's buffer, or past `first` in the leaf's row).
    struct Term: Sendable {
        let source: Int
        let offset: Int
    }

    struct Node: Sendable {
        let terms: Range<Int>
        /// Samples computed past the tile's length.
        let extra: Int
        /// The target this node is, or -1 for a shared partial sum kept in scratch.
        let target: Int
    }

    /// In order of computation: every node after the nodes it reads.
    let nodes: [Node]
    let terms: [Term]
    let leafCount: Int
    /// Per leaf, the furthest sample past `first + tile` that is read.
    let leafReach: [Int]

    /// Plans targets with `shifts[T][i]` (every row `leafCount` long, shifts >= 0) computed over
    /// `tile + targetExtra[T]` samples.
    init(shifts: [[Int]], targetExtra: [Int], leafCount: Int, radices: [Int]) {
        precondition(shifts.count == targetExtra.count && shifts.allSatisfy { $0.count == leafCount })
        self.leafCount = leafCount
        // Block sizes below the whole, smallest first.
        var sizes: [Int] = []
        var size = 1
        for r in radices where r > 1 {
            size *= r
            if size >= leafCount { break }
            sizes.append(size)
        }

        // Build bottom-up: node ids per level, interned by (block, relative shifts).
        struct Building {
            var children: [(source: Int, relative: Int)]  // source < 0: leaf -source-1
            var base = Int.max
            var reach = Int.min
        }
        var built: [Building] = []
        var levelIDs: [[Int]] = []  // per level, node ids of that level, in creation order
        // targetBlocks[T][level] = node id of each block of that level for target T.
        var blockNodes = [[Int]](repeating: [], count: shifts.count)
        for (level, blockSize) in sizes.enumerated() {
            var interned: [[Int]: Int] = [:]
            var ids: [(block: Int, id: Int)] = []
            let blocks = (leafCount + blockSize - 1) / blockSize
            let childSize = level == 0 ? 1 : sizes[level - 1]
            for (t, s) in shifts.enumerated() {
                var mine: [Int] = []
                mine.reserveCapacity(blocks)
                for b in 0..<blocks {
                    let lo = b * blockSize, hi = min(leafCount, lo + blockSize)
                    let low = s[lo..<hi].min()!
                    var key = [b]
                    key.reserveCapacity(1 + hi - lo)
                    for i in lo..<hi { key.append(s[i] - low) }
                    if let id = interned[key] { mine.append(id); continue }
                    var children: [(Int, Int)] = []
                    var c = lo
                    while c < hi {
                        let end = min(hi, c + childSize)
                        if level == 0 {
                            children.append((-c - 1, s[c] - low))
                        } else {
                            children.append((blockNodes[t][c / childSize], s[c..<end].min()! - low))
                        }
                        c = end
                    }
                    let id = built.count
                    built.append(Building(children: children))
                    interned[key] = id
                    ids.append((b, id))
                    mine.append(id)
                }
                blockNodes[t] = mine
            }
            // Block by block (stable): the nodes of a block read the same rows one after another,
            // while they are in L1, and land side by side in scratch for the next level's reads.
            levelIDs.append(ids.enumerated().sorted { ($0.element.block, $0.offset) < ($1.element.block, $1.offset) }.map(\.element.id))
        }
        // One root per target over the top blocks (or the leaves).
        var roots: [Int] = []
        for (t, s) in shifts.enumerated() {
            let base = s.min() ?? 0
            var children: [(Int, Int)] = []
            if let top = sizes.last {
                var c = 0
                while c < leafCount {
                    let end = min(leafCount, c + top)
                    children.append((blockNodes[t][c / top], s[c..<end].min()! - base))
                    c = end
                }
            } else {
                for i in 0..<leafCount { children.append((-i - 1, s[i] - base)) }
            }
            roots.append(built.count)
            built.append(Building(children: children, base: base, reach: base + targetExtra[t]))
        }

        // Top-down: each node's base is the least its parents need, its reach the furthest.
        var leafReach = [Int](repeating: 0, count: leafCount)
        func push(from p: Int) {
            let parent = built[p]
            for (source, relative) in parent.children {
                if source < 0 {
                    leafReach[-source - 1] = max(leafReach[-source - 1], parent.reach + relative)
                } else {
                    built[source].base = min(built[source].base, parent.base + relative)
                    built[source].reach = max(built[source].reach, parent.reach + relative)
                }
            }
        }
        for r in roots { push(from: r) }
        for ids in levelIDs.reversed() { for id in ids { push(from: id) } }

        // Emit in computation order: level by level, then the roots. A partial sum only one parent
        // reads is not kept: its terms go into the parent's (same additions, one store and one load
        // fewer per sample, less scratch). Emitted nodes are renumbered in order.
        var uses = [Int](repeating: 0, count: built.count)
        for node in built { for (source, _) in node.children where source >= 0 { uses[source] += 1 } }
        let rootTarget = Dictionary(uniqueKeysWithValues: roots.enumerated().map { ($1, $0) })
        var newID = [Int](repeating: -1, count: built.count)
        var nodes: [Node] = []
        var terms: [Term] = []
        // Appends node `id`'s terms, each read `shift` samples further on.
        func expand(_ id: Int, shift: Int) {
            let node = built[id]
            for (source, relative) in node.children {
                if source < 0 {
                    terms.append(Term(source: source, offset: shift + node.base + relative))
                } else if newID[source] >= 0 {
                    terms.append(Term(source: newID[source], offset: shift + node.base + relative - built[source].base))
                } else {
                    expand(source, shift: shift + node.base + relative - built[source].base)
                }
            }
        }
        for id in levelIDs.joined() + roots where rootTarget[id] != nil || uses[id] > 1 {
            let first = terms.count
            expand(id, shift: 0)
            newID[id] = nodes.count
            nodes.append(Node(terms: first..<terms.count, extra: built[id].reach - built[id].base, target: rootTarget[id] ?? -1))
        }
        self.nodes = nodes
        self.terms = terms
        self.leafReach = leafReach
    }

    /// Floats of scratch ``run`` needs for tiles of at most `tile` samples.
    func scratchCount(tile: Int) -> Int {
        nodes.reduce(0) { $1.target < 0 ? $0 + tile + $1.extra : $0 }
    }

    /// Additions (samples summed) per tile of `tile` samples, the plan's cost.
    func additions(tile: Int) -> Int {
        nodes.reduce(0) { $0 + max(0, $1.terms.count - 1) * max(0, tile + $1.extra) }
    }

    /// ``run(leaves:first:count:targets:scratch:rowPointers:)`` over samples `0 ..< count`, a tile
    /// of at most `tile` samples at a time, so the partial sums of a tile stay in cache.
    func run(
        leaves: UnsafePointer<UnsafePointer<Float>>, count: Int, tile: Int,
        targets: UnsafePointer<UnsafeMutablePointer<Float>>,
        scratch: UnsafeMutablePointer<Float>, rowPointers: UnsafeMutablePointer<UnsafePointer<Float>?>
    ) {
        var first = 0
        while first < count {
            let n = min(tile, count - first)
            run(leaves: leaves, first: first, count: n, targets: targets, scratch: scratch, rowPointers: rowPointers)
            first += n
        }
    }

    /// Computes samples `first ..< first + count` (plus each target's extra) of every target into
    /// `targets[T] + first`, reading leaf `i` at `leaves[i] + first + offset`. `rowPointers` holds
    /// at least as many pointers as the widest node has terms.
    func run(
        leaves: UnsafePointer<UnsafePointer<Float>>, first: Int, count: Int,
        targets: UnsafePointer<UnsafeMutablePointer<Float>>,
        scratch: UnsafeMutablePointer<Float>, rowPointers: UnsafeMutablePointer<UnsafePointer<Float>?>
    ) {
        var placed = [Int](repeating: 0, count: nodes.count)
        var next = 0
        for (k, node) in nodes.enumerated() {
            let out: UnsafeMutablePointer<Float>
            let length = count + node.extra
            if node.target >= 0 {
                out = targets[node.target] + first
            } else {
                placed[k] = next
                out = scratch + next
                next += count + node.extra
            }
            var r = 0
            for term in terms[node.terms] {
                rowPointers[r] = term.source < 0
                    ? leaves[-term.source - 1] + first + term.offset
                    : UnsafePointer(scratch + placed[term.source] + term.offset)
                r += 1
            }
            xx_sum_rows(rowPointers, r, out, length)
        }
    }
}
