//! The RFC 6962/9162 (Certificate Transparency) Merkle tree: SHA-256 from ledger format v2
//! on, SHA3-256 in the closed v1 log ([`TreeHash`]).
//!
//! Leaves hash as `H(0x00 || entry)`, interior nodes as `H(0x01 || left || right)`, and a tree
//! of `n` leaves splits at the largest power of two below `n`, exactly as RFC 9162 §2.1.1.
//!
//! Stored trees keep the hash of every *perfect, aligned* subtree: node `(level, index)`
//! covers leaves `index·2^level .. (index+1)·2^level`. Any root or proof of a tree of `n`
//! leaves is assembled from O(log n) such nodes. The functions here first name the nodes they
//! need ([`root_nodes`], [`inclusion_nodes`], [`consistency_nodes`]), so the store can fetch
//! them in one query, then compute from a [`NodeMap`].

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use sha2::Sha256;
use sha3::{Digest, Sha3_256};

/// A 32-byte digest: a tree node, root or leaf hash.
pub type Hash = [u8; 32];

/// The hash `H` a tree is built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeHash {
    /// Ledger format v1 (closed): SHA3-256.
    Sha3_256,
    /// Ledger format v2: SHA-256, the hash of RFC 6962 and of every transparency tool.
    Sha256,
}

/// The hash of the log a server serves and extends: a v1 log is carried over into v2 before
/// the server starts serving.
pub const LOG_HASH: TreeHash = TreeHash::Sha256;

impl TreeHash {
    fn digest<D: Digest>(parts: &[&[u8]]) -> Hash {
        let mut hasher = D::new();
        for part in parts {
            hasher.update(part);
        }
        hasher
            .finalize()
            .as_slice()
            .try_into()
            .expect("both hashes are 32 bytes")
    }

    fn hash(self, parts: &[&[u8]]) -> Hash {
        match self {
            TreeHash::Sha3_256 => Self::digest::<Sha3_256>(parts),
            TreeHash::Sha256 => Self::digest::<Sha256>(parts),
        }
    }

    /// The hash of an empty tree: `H()`.
    pub fn empty_root(self) -> Hash {
        self.hash(&[])
    }

    /// `H(0x00 || entry)`.
    pub fn leaf(self, entry: &[u8]) -> Hash {
        self.hash(&[&[0x00], entry])
    }

    /// `H(0x01 || left || right)`.
    pub fn node(self, left: &Hash, right: &Hash) -> Hash {
        self.hash(&[&[0x01], left, right])
    }
}

/// Coordinates of a perfect, aligned subtree: `(level, index)`.
pub type NodeId = (u32, u64);

/// Node hashes fetched from storage.
pub type NodeMap = HashMap<NodeId, Hash, BuildHasherDefault<NodeIdHasher>>;

/// Hashes node coordinates for [`NodeMap`] with one multiply per word. Node ids are computed by
/// the server from tree sizes, never taken from requests, so SipHash's resistance to chosen
/// keys buys nothing here, and its cost dominated appends.
#[derive(Debug, Default, Clone, Copy)]
pub struct NodeIdHasher(u64);

impl NodeIdHasher {
    const MULTIPLIER: u64 = 0x517c_c1b7_2722_0a95;
}

impl Hasher for NodeIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(u64::from(n));
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(Self::MULTIPLIER);
    }
}

/// The largest power of two strictly smaller than `n` (for `n > 1`).
fn split(n: u64) -> u64 {
    debug_assert!(n > 1);
    1 << (63 - (n - 1).leading_zeros())
}

/// Something that yields the hash of a perfect aligned subtree, and combines two.
trait Nodes {
    fn node(&mut self, id: NodeId) -> Hash;

    fn combine(&self, h: TreeHash, left: &Hash, right: &Hash) -> Hash {
        h.node(left, right)
    }

    /// The root of `start..end` if it is a known right-edge subtree.
    fn edge(&self, _start: u64, _end: u64) -> Option<Hash> {
        None
    }
}

/// Records which nodes a computation asks for (answering zeros, hashing nothing).
struct Recorder<'a>(Vec<NodeId>, Option<&'a RightEdge>);

impl Nodes for Recorder<'_> {
    fn node(&mut self, id: NodeId) -> Hash {
        self.0.push(id);
        [0; 32]
    }

    fn combine(&self, _: TreeHash, _: &Hash, _: &Hash) -> Hash {
        [0; 32]
    }

    fn edge(&self, start: u64, end: u64) -> Option<Hash> {
        self.1?.root_from(start, end)
    }
}

/// Answers from fetched nodes.
struct Lookup<'a>(&'a NodeMap, Option<&'a RightEdge>);

impl Nodes for Lookup<'_> {
    fn node(&mut self, id: NodeId) -> Hash {
        self.0
            .get(&id)
            .copied()
            .unwrap_or_else(|| panic!("node {id:?} was not fetched"))
    }

    fn edge(&self, start: u64, end: u64) -> Option<Hash> {
        self.1?.root_from(start, end)
    }
}

/// `MTH(D[start..end])` where the range is either a perfect aligned subtree or the RFC's
/// right-hand remainder of one (which is all the recursion from a root ever produces).
fn subtree_root(h: TreeHash, nodes: &mut impl Nodes, start: u64, end: u64) -> Hash {
    let size = end - start;
    if size.is_power_of_two() && start.is_multiple_of(size) {
        return nodes.node((size.trailing_zeros(), start / size));
    }
    if let Some(root) = nodes.edge(start, end) {
        return root;
    }
    let k = split(size);
    let left = subtree_root(h, nodes, start, start + k);
    let right = subtree_root(h, nodes, start + k, end);
    nodes.combine(h, &left, &right)
}

fn root_with(h: TreeHash, nodes: &mut impl Nodes, size: u64) -> Hash {
    if size == 0 {
        h.empty_root()
    } else {
        subtree_root(h, nodes, 0, size)
    }
}

/// RFC 9162 §2.1.3.1 `PATH(m, D[start..end])`, leaf-to-root order.
fn path(h: TreeHash, nodes: &mut impl Nodes, m: u64, start: u64, end: u64, out: &mut Vec<Hash>) {
    let size = end - start;
    if size <= 1 {
        return;
    }
    let k = split(size);
    if m < k {
        path(h, nodes, m, start, start + k, out);
        out.push(subtree_root(h, nodes, start + k, end));
    } else {
        path(h, nodes, m - k, start + k, end, out);
        out.push(subtree_root(h, nodes, start, start + k));
    }
}

/// RFC 9162 §2.1.4.1 `SUBPROOF(m, D[start..end], b)`.
fn subproof(h: TreeHash, nodes: &mut impl Nodes, m: u64, start: u64, end: u64, complete: bool, out: &mut Vec<Hash>) {
    let size = end - start;
    if m == size {
        if !complete {
            out.push(subtree_root(h, nodes, start, end));
        }
        return;
    }
    let k = split(size);
    if m <= k {
        subproof(h, nodes, m, start, start + k, complete, out);
        out.push(subtree_root(h, nodes, start + k, end));
    } else {
        subproof(h, nodes, m - k, start + k, end, false, out);
        out.push(subtree_root(h, nodes, start, start + k));
    }
}

/// Why a proof was not computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("cannot prove consistency from size {from} to the smaller size {to}")]
    Shrinking { from: u64, to: u64 },
}

/// Nodes needed for the root of a tree of `size` leaves.
pub fn root_nodes(size: u64) -> Vec<NodeId> {
    let mut recorder = Recorder(Vec::new(), None);
    root_with(TreeHash::Sha256, &mut recorder, size);
    recorder.0
}

pub fn root(h: TreeHash, size: u64, nodes: &NodeMap) -> Hash {
    root_with(h, &mut Lookup(nodes, None), size)
}

/// Nodes needed for the inclusion proof of leaf `index` in a tree of `size`.
pub fn inclusion_nodes(index: u64, size: u64) -> Result<Vec<NodeId>, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut recorder = Recorder(Vec::new(), None);
    path(TreeHash::Sha256, &mut recorder, index, 0, size, &mut Vec::new());
    Ok(recorder.0)
}

pub fn inclusion_proof(h: TreeHash, index: u64, size: u64, nodes: &NodeMap) -> Result<Vec<Hash>, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut out = Vec::new();
    path(h, &mut Lookup(nodes, None), index, 0, size, &mut out);
    Ok(out)
}

/// [`inclusion_nodes`] in the tree whose right edge is `edge`: only the perfect subtrees the
/// proof holds, none of those the edge's roots are made of.
pub fn inclusion_nodes_beside(edge: &RightEdge, index: u64) -> Result<Vec<NodeId>, ProofError> {
    let size = edge.size;
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut recorder = Recorder(Vec::with_capacity(64), Some(edge));
    path(edge.hash, &mut recorder, index, 0, size, &mut Vec::new());
    Ok(recorder.0)
}

/// [`inclusion_proof`] in the tree whose right edge is `edge`, from the nodes named by
/// [`inclusion_nodes_beside`]: it looks them up and hashes nothing.
pub fn inclusion_proof_beside(edge: &RightEdge, index: u64, nodes: &NodeMap) -> Result<Vec<Hash>, ProofError> {
    let size = edge.size;
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let mut out = Vec::with_capacity(64);
    path(edge.hash, &mut Lookup(nodes, Some(edge)), index, 0, size, &mut out);
    Ok(out)
}

/// Nodes needed for the consistency proof between sizes `from` and `to`.
pub fn consistency_nodes(from: u64, to: u64) -> Result<Vec<NodeId>, ProofError> {
    if from > to {
        return Err(ProofError::Shrinking { from, to });
    }
    let mut recorder = Recorder(Vec::new(), None);
    if from > 0 && from < to {
        subproof(TreeHash::Sha256, &mut recorder, from, 0, to, true, &mut Vec::new());
    }
    Ok(recorder.0)
}

/// The consistency proof between sizes `from` and `to` (empty when `from` is 0 or equals
/// `to`, as the RFC defines).
pub fn consistency_proof(h: TreeHash, from: u64, to: u64, nodes: &NodeMap) -> Result<Vec<Hash>, ProofError> {
    if from > to {
        return Err(ProofError::Shrinking { from, to });
    }
    let mut out = Vec::new();
    if from > 0 && from < to {
        subproof(h, &mut Lookup(nodes, None), from, 0, to, true, &mut out);
    }
    Ok(out)
}

/// Which side of the running hash a proof step's sibling sits on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Left,
    Right,
}

/// RFC 9162 §2.1.3.2 run step by step: folds `proof` into `leaf` for leaf `index` of a tree of
/// `size`, telling `step` each sibling, its side and the hash it produced. Returns the root the
/// proof leads to, or `None` when the proof has the wrong length for `index` and `size`.
pub fn walk_inclusion(
    h: TreeHash,
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    mut step: impl FnMut(Side, &Hash, &Hash),
) -> Option<Hash> {
    if index >= size {
        return None;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return None;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = h.node(p, &r);
            step(Side::Left, p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = h.node(&r, p);
            step(Side::Right, p, &r);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    (sn == 0).then_some(r)
}

/// RFC 9162 §2.1.3.2: checks that `leaf` is at `index` in the tree of `size` with `root`.
pub fn verify_inclusion(h: TreeHash, index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    walk_inclusion(h, index, size, leaf, proof, |_, _, _| {}).is_some_and(|computed| computed == *root)
}

/// RFC 9162 §2.1.4.2: checks that the tree of size `to` with `second` extends the tree of size
/// `from` with `first`.
pub fn verify_consistency(h: TreeHash, from: u64, to: u64, first: &Hash, second: &Hash, proof: &[Hash]) -> bool {
    if from > to {
        return false;
    }
    if from == to {
        return proof.is_empty() && first == second;
    }
    if from == 0 {
        return proof.is_empty();
    }
    if proof.is_empty() {
        return false;
    }
    let mut path: Vec<Hash> = proof.to_vec();
    if from.is_power_of_two() {
        path.insert(0, *first);
    }
    let Some((&start, rest)) = path.split_first() else {
        return false;
    };
    let (mut fn_, mut sn) = (from - 1, to - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (start, start);
    for c in rest {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = h.node(c, &fr);
            sr = h.node(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = h.node(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && fr == *first && sr == *second
}

/// The roots of the subtrees along a tree's right edge, `start..size` for each start of a
/// [`Frontier`] subtree: every range a proof's recursion ends at the tree's last leaf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RightEdge {
    hash: TreeHash,
    size: u64,
    /// (start, root of `start..size`), largest first.
    roots: Vec<(u64, Hash)>,
}

impl RightEdge {
    pub fn size(&self) -> u64 {
        self.size
    }

    fn root_from(&self, start: u64, end: u64) -> Option<Hash> {
        if end != self.size {
            return None;
        }
        self.roots
            .iter()
            .find(|(from, _)| *from == start)
            .map(|&(_, root)| root)
    }
}

/// The right edge of a tree: its perfect subtrees of strictly decreasing size (the nodes
/// [`root_nodes`] names), all that appending needs, in O(log n) memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frontier {
    hash: TreeHash,
    size: u64,
    /// (level, hash), largest subtree first.
    edge: Vec<(u32, Hash)>,
}

impl Frontier {
    pub fn empty(hash: TreeHash) -> Self {
        Self {
            hash,
            size: 0,
            edge: Vec::with_capacity(64),
        }
    }

    /// The frontier of the tree of `size` leaves, from `nodes` holding [`root_nodes`]`(size)`;
    /// otherwise the first node missing.
    pub fn of(hash: TreeHash, size: u64, nodes: &NodeMap) -> Result<Self, NodeId> {
        let mut frontier = Self::empty(hash);
        frontier.size = size;
        for id in root_nodes(size) {
            frontier.edge.push((id.0, *nodes.get(&id).ok_or(id)?));
        }
        Ok(frontier)
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// The perfect subtrees along the right edge, (level, root), largest first: with the size,
    /// all a frontier is, for keeping it between runs.
    pub fn edge(&self) -> &[(u32, Hash)] {
        &self.edge
    }

    /// The frontier with `edge` ([`edge`](Self::edge)) for a tree of `size` leaves; `None`
    /// if the levels are not those of that size.
    pub fn from_edge(hash: TreeHash, size: u64, edge: Vec<(u32, Hash)>) -> Option<Self> {
        let levels: Vec<u32> = (0..64).rev().filter(|level| size >> level & 1 == 1).collect();
        edge.iter()
            .map(|(level, _)| *level)
            .eq(levels)
            .then_some(Self { hash, size, edge })
    }

    /// Appends `leaf` and adds to `completed` the nodes it completes: its leaf node, then each
    /// perfect subtree it closes. Appending never changes an existing node.
    pub fn push(&mut self, leaf: Hash, completed: &mut Vec<(NodeId, Hash)>) {
        let index = self.size;
        completed.push(((0, index), leaf));
        let (mut level, mut hash) = (0, leaf);
        while let Some(&(top_level, top)) = self.edge.last() {
            if top_level != level {
                break;
            }
            self.edge.pop();
            hash = self.hash.node(&top, &hash);
            level += 1;
            completed.push(((level, index >> level), hash));
        }
        self.edge.push((level, hash));
        self.size += 1;
    }

    /// The roots of the tree's right-edge subtrees, which proofs would otherwise recompute.
    pub fn right_edge(&self) -> RightEdge {
        let mut starts = Vec::with_capacity(self.edge.len());
        let mut start = 0u64;
        for &(level, _) in &self.edge {
            starts.push(start);
            start += 1 << level;
        }
        let mut roots = Vec::with_capacity(self.edge.len());
        let mut folded: Option<Hash> = None;
        for (&(_, hash), &start) in self.edge.iter().zip(&starts).rev() {
            let root = folded.map_or(hash, |right| self.hash.node(&hash, &right));
            roots.push((start, root));
            folded = Some(root);
        }
        roots.reverse();
        RightEdge {
            hash: self.hash,
            size: self.size,
            roots,
        }
    }

    /// The root of the tree.
    pub fn root(&self) -> Hash {
        let mut edge = self.edge.iter().rev();
        match edge.next() {
            None => self.hash.empty_root(),
            Some(&(_, last)) => edge.fold(last, |right, &(_, left)| self.hash.node(&left, &right)),
        }
    }
}

#[cfg(test)]
mod tests;
