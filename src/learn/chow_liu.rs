//! Chow-Liu trees: the maximum spanning tree of the mutual-information graph, rooted at its
//! centre, optionally rebalanced to depth about log2 D, and listed in pre-order.
//!
//! Everything is iterative (explicit stacks and queues): Chow-Liu trees over image pixels
//! are often hundreds of nodes deep.

use crate::circuit::{Tree, NO_PARENT};
use crate::error::Result;

/// Undirected tree as adjacency lists over variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanningTree {
    adjacency: Vec<Vec<u32>>,
}

impl SpanningTree {
    /// Maximum spanning tree of the complete graph with weights `weight[i * d + j]`, by Prim's
    /// algorithm in O(D^2). Ties go to the lower index, so the result is deterministic.
    pub fn maximum(weight: &[f64], d: usize) -> Self {
        let mut adjacency = vec![Vec::new(); d];
        let mut in_tree = vec![false; d];
        let mut best = vec![f64::NEG_INFINITY; d];
        let mut from = vec![0u32; d];
        let mut current = 0usize;
        in_tree[0] = true;
        for _ in 1..d {
            let mut next = usize::MAX;
            for v in 0..d {
                if in_tree[v] {
                    continue;
                }
                let w = weight[current * d + v];
                if w > best[v] {
                    best[v] = w;
                    from[v] = current as u32;
                }
                if next == usize::MAX || best[v] > best[next] {
                    next = v;
                }
            }
            in_tree[next] = true;
            adjacency[next].push(from[next]);
            adjacency[from[next] as usize].push(next as u32);
            current = next;
        }
        for list in &mut adjacency {
            list.sort_unstable();
        }
        SpanningTree { adjacency }
    }

    /// Builds a tree from explicit undirected edges (for tests and tools).
    pub fn from_edges(d: usize, edges: &[(u32, u32)]) -> Self {
        let mut adjacency = vec![Vec::new(); d];
        for &(a, b) in edges {
            adjacency[a as usize].push(b);
            adjacency[b as usize].push(a);
        }
        for list in &mut adjacency {
            list.sort_unstable();
        }
        SpanningTree { adjacency }
    }

    /// Edges (a < b), sorted.
    pub fn edges(&self) -> Vec<(u32, u32)> {
        let mut e: Vec<(u32, u32)> = (0..self.adjacency.len() as u32)
            .flat_map(|a| {
                self.adjacency[a as usize]
                    .iter()
                    .filter(move |&&b| a < b)
                    .map(move |&b| (a, b))
            })
            .collect();
        e.sort_unstable();
        e
    }

    /// The centre (minimum eccentricity; the lower index of two) of the component of `start`
    /// that avoids `removed` vertices: the middle of a longest path, found by two BFS.
    /// `prev` must be all `NO_PARENT` on entry and is left so.
    fn centre(&self, start: u32, removed: &[bool], prev: &mut [u32]) -> u32 {
        let mut order = Vec::new();
        self.bfs(start, removed, prev, &mut order);
        let far = *order.last().expect("start is visited");
        order.iter().for_each(|&v| prev[v as usize] = NO_PARENT);
        self.bfs(far, removed, prev, &mut order);
        let mut path = vec![*order.last().expect("far is visited")];
        while *path.last().expect("nonempty") != far {
            path.push(prev[*path.last().expect("nonempty") as usize]);
        }
        order.iter().for_each(|&v| prev[v as usize] = NO_PARENT);
        let mid = path.len() / 2;
        if path.len() % 2 == 0 {
            path[mid].min(path[mid - 1])
        } else {
            path[mid]
        }
    }

    /// Breadth-first order of the component of `start`; `prev` gets BFS parents (the start
    /// points to itself). BFS visits by distance, so the last vertex is a farthest one.
    fn bfs(&self, start: u32, removed: &[bool], prev: &mut [u32], order: &mut Vec<u32>) {
        order.clear();
        order.push(start);
        prev[start as usize] = start;
        let mut head = 0;
        while head < order.len() {
            let v = order[head];
            head += 1;
            for &u in &self.adjacency[v as usize] {
                if !removed[u as usize] && prev[u as usize] == NO_PARENT {
                    prev[u as usize] = v;
                    order.push(u);
                }
            }
        }
    }

    /// Rooted at the centre: parent of every variable (`NO_PARENT` at the root).
    pub fn rooted_at_centre(&self) -> Vec<u32> {
        let d = self.adjacency.len();
        let removed = vec![false; d];
        let mut prev = vec![NO_PARENT; d];
        let root = self.centre(0, &removed, &mut prev);
        let mut parent = vec![NO_PARENT; d];
        let mut seen = vec![false; d];
        let mut stack = vec![root];
        seen[root as usize] = true;
        while let Some(v) = stack.pop() {
            for &u in &self.adjacency[v as usize] {
                if !std::mem::replace(&mut seen[u as usize], true) {
                    parent[u as usize] = v;
                    stack.push(u);
                }
            }
        }
        parent
    }

    /// Balanced re-rooting: the centre of the whole tree becomes the root, and the centre of
    /// each component left after removing it becomes its child, and so on. Components at
    /// least halve at each level, so the depth is at most log2 D. Edges become
    /// (centre, sub-centre) pairs, which are dependencies the HCLT's hidden states carry.
    pub fn balanced(&self) -> Vec<u32> {
        let d = self.adjacency.len();
        let mut removed = vec![false; d];
        let mut parent = vec![NO_PARENT; d];
        let mut prev = vec![NO_PARENT; d];
        let mut queue = std::collections::VecDeque::from([(0u32, NO_PARENT)]);
        while let Some((seed, up)) = queue.pop_front() {
            let c = self.centre(seed, &removed, &mut prev);
            removed[c as usize] = true;
            parent[c as usize] = up;
            for &u in &self.adjacency[c as usize] {
                if !removed[u as usize] {
                    queue.push_back((u, c));
                }
            }
        }
        parent
    }
}

/// Lists a rooted tree (parent per variable) in pre-order, children by increasing variable.
pub fn preorder(parent_of_var: &[u32]) -> Result<Tree> {
    let d = parent_of_var.len();
    let mut children = vec![Vec::new(); d];
    let mut root = None;
    for (v, &p) in parent_of_var.iter().enumerate() {
        if p == NO_PARENT {
            root = Some(v as u32);
        } else {
            children[p as usize].push(v as u32);
        }
    }
    let root = root.ok_or_else(|| crate::Error::parameter("tree has no root"))?;
    let mut vars = Vec::with_capacity(d);
    let mut parents = Vec::with_capacity(d);
    let mut position = vec![NO_PARENT; d];
    let mut stack = vec![root];
    while let Some(v) = stack.pop() {
        position[v as usize] = vars.len() as u32;
        vars.push(v);
        let p = parent_of_var[v as usize];
        parents.push(if p == NO_PARENT {
            NO_PARENT
        } else {
            position[p as usize]
        });
        stack.extend(children[v as usize].iter().rev());
    }
    Tree::new(vars, parents)
}
