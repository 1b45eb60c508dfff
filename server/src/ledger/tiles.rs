//! The log as C2SP tlog-tiles: which tiles and entry bundles a tree of some size has, their
//! paths, and how an entry bundle is laid out.
//!
//! Tile `(L, N)` holds up to 256 consecutive tree hashes at tree level `8·L`, starting at hash
//! `256·N`: at level 0 the leaf hashes, above that the roots of full tiles below. A tile is
//! *full* at 256 hashes; the rightmost tile of each level is usually *partial*, and its path
//! names its width (`.p/<W>`). Entry bundle `N` holds entries `256·N ..` as big-endian
//! `u16`-length-prefixed bytes. Every object is immutable once written: a tree that grows
//! adds wider partial tiles, never changes one.

use std::fmt;

/// Hashes in a full tile (tiles are 8 tree levels high).
pub const TILE_WIDTH: u64 = 256;

/// The tree levels one tile spans.
pub const TILE_HEIGHT: u32 = 8;

/// The highest tile level a path may name.
const MAX_TILE_LEVEL: u8 = 63;

/// What a tile holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TileKind {
    /// Tree hashes at tree level `8 × level`.
    Hashes { level: u8 },
    /// Entries, as an entry bundle.
    Entries,
}

/// One tile or entry bundle: what it holds, its index within its level and its width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tile {
    kind: TileKind,
    index: u64,
    /// 1 ..= 256; 256 is a full tile.
    width: u16,
}

/// A request path that is not the canonical path of a tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a tile path")]
pub struct NotATilePath;

impl Tile {
    pub fn kind(&self) -> TileKind {
        self.kind
    }

    pub fn width(&self) -> u64 {
        u64::from(self.width)
    }

    pub fn is_full(&self) -> bool {
        self.width() == TILE_WIDTH
    }

    /// The tree level of the hashes the tile holds (0 for entry bundles: one entry per leaf).
    pub fn tree_level(&self) -> u32 {
        match self.kind {
            TileKind::Hashes { level } => u32::from(level) * TILE_HEIGHT,
            TileKind::Entries => 0,
        }
    }

    /// The indices, at [`tree_level`](Self::tree_level), of what the tile holds.
    pub fn span(&self) -> std::ops::Range<u64> {
        let start = self.index * TILE_WIDTH;
        start..start + self.width()
    }

    /// Every tile and entry bundle a tree of `new_size` holds that a tree of `old_size` did
    /// not: the tiles that appending leaves `old_size..new_size` writes. Empty if the tree did
    /// not grow.
    pub fn added_between(old_size: u64, new_size: u64) -> Vec<Tile> {
        let mut tiles = Vec::new();
        if new_size <= old_size {
            return tiles;
        }
        let mut push_level = |kind: TileKind, old_count: u64, new_count: u64| {
            // A tile changes when its last hash lies past the old count; only the rightmost
            // old tile can be partial, so the first changed tile holds hash `old_count`.
            for index in old_count / TILE_WIDTH..new_count.div_ceil(TILE_WIDTH) {
                let width = (new_count - index * TILE_WIDTH).min(TILE_WIDTH);
                tiles.push(Tile {
                    kind,
                    index,
                    width: u16::try_from(width).expect("at most 256"),
                });
            }
        };
        push_level(TileKind::Entries, old_size, new_size);
        for level in 0..=MAX_TILE_LEVEL {
            let shift = u32::from(level) * TILE_HEIGHT;
            let (old_count, new_count) = (old_size >> shift, new_size >> shift);
            if new_count == 0 {
                break;
            }
            if new_count > old_count {
                push_level(TileKind::Hashes { level }, old_count, new_count);
            }
            if shift + TILE_HEIGHT >= 64 {
                break;
            }
        }
        tiles
    }

    /// The tile's path under the log's prefix: `tile/<L>/<N>[.p/<W>]` or
    /// `tile/entries/<N>[.p/<W>]`, `N` in 3-digit groups, all but the last prefixed `x`.
    pub fn path(&self) -> String {
        self.to_string()
    }

    /// Reads a request path (after the log's prefix); only the canonical path of a tile is
    /// one, so a tile has exactly one name.
    pub fn parse(path: &str) -> Result<Self, NotATilePath> {
        let rest = path.strip_prefix("tile/").ok_or(NotATilePath)?;
        let (kind, rest) = rest.split_once('/').ok_or(NotATilePath)?;
        let kind = match kind {
            "entries" => TileKind::Entries,
            level => TileKind::Hashes {
                level: canonical_number(level)
                    .and_then(|l| u8::try_from(l).ok())
                    .filter(|&l| l <= MAX_TILE_LEVEL)
                    .ok_or(NotATilePath)?,
            },
        };
        let (index_part, width) = match rest.split_once(".p/") {
            Some((index, width)) => {
                let width = canonical_number(width)
                    .filter(|w| (1..TILE_WIDTH).contains(w))
                    .ok_or(NotATilePath)?;
                (index, width)
            }
            None => (rest, TILE_WIDTH),
        };
        let groups: Vec<&str> = index_part.split('/').collect();
        let (last, leading) = groups.split_last().ok_or(NotATilePath)?;
        let mut index: u64 = 0;
        for (i, group) in leading.iter().chain(std::iter::once(last)).enumerate() {
            let digits = if i < leading.len() {
                group.strip_prefix('x').ok_or(NotATilePath)?
            } else {
                group
            };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(NotATilePath);
            }
            let value: u64 = digits.parse().map_err(|_| NotATilePath)?;
            index = index
                .checked_mul(1000)
                .and_then(|n| n.checked_add(value))
                .ok_or(NotATilePath)?;
        }
        let tile = Tile {
            kind,
            index,
            width: u16::try_from(width).expect("at most 256"),
        };
        // Leading zero groups (`x000/001`) are another name for `001`: refused.
        if tile.path() != path {
            return Err(NotATilePath);
        }
        Ok(tile)
    }
}

/// A decimal with no sign and no leading zero.
fn canonical_number(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'))
        && text.len() <= 20;
    canonical.then(|| text.parse().ok()).flatten()
}

impl fmt::Display for Tile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            TileKind::Hashes { level } => write!(f, "tile/{level}/")?,
            TileKind::Entries => f.write_str("tile/entries/")?,
        }
        let mut groups = Vec::new();
        let mut n = self.index;
        loop {
            groups.push(n % 1000);
            n /= 1000;
            if n == 0 {
                break;
            }
        }
        for (i, group) in groups.iter().rev().enumerate() {
            if i + 1 < groups.len() {
                write!(f, "x{group:03}/")?;
            } else {
                write!(f, "{group:03}")?;
            }
        }
        if !self.is_full() {
            write!(f, ".p/{}", self.width)?;
        }
        Ok(())
    }
}

/// An entry longer than an entry bundle's `u16` length prefix can say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("entry {index} is {len} bytes, more than an entry bundle holds")]
pub struct EntryTooLong {
    pub index: u64,
    pub len: usize,
}

/// The entry bundle of `entries` (the first at index `first`): each as a big-endian `u16`
/// length and its bytes.
pub fn entry_bundle<'a>(first: u64, entries: impl IntoIterator<Item = &'a [u8]>) -> Result<Vec<u8>, EntryTooLong> {
    let mut bundle = Vec::new();
    for (offset, entry) in entries.into_iter().enumerate() {
        let len = u16::try_from(entry.len()).map_err(|_| EntryTooLong {
            index: first + offset as u64,
            len: entry.len(),
        })?;
        bundle.extend_from_slice(&len.to_be_bytes());
        bundle.extend_from_slice(entry);
    }
    Ok(bundle)
}

/// An entry bundle that is not `width` length-prefixed entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the entry bundle does not hold exactly {width} length-prefixed entries")]
pub struct BadBundle {
    pub width: u64,
}

/// The entries of an entry bundle that must hold `width` of them, in order.
pub fn read_entry_bundle(bundle: &[u8], width: u64) -> Result<Vec<&[u8]>, BadBundle> {
    let bad = BadBundle { width };
    let mut entries = Vec::new();
    let mut rest = bundle;
    while !rest.is_empty() {
        let (len, after) = rest.split_first_chunk::<2>().ok_or(bad)?;
        let len = usize::from(u16::from_be_bytes(*len));
        let (entry, after) = after.split_at_checked(len).ok_or(bad)?;
        entries.push(entry);
        rest = after;
    }
    if entries.len() as u64 != width {
        return Err(bad);
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundles_read_back_and_bad_ones_are_refused() {
        let entries: [&[u8]; 3] = [b"one", b"", &[7; 300]];
        let bundle = entry_bundle(0, entries).unwrap();
        assert_eq!(read_entry_bundle(&bundle, 3).unwrap(), entries);
        assert_eq!(read_entry_bundle(&bundle, 2), Err(BadBundle { width: 2 }));
        assert!(read_entry_bundle(&bundle[..bundle.len() - 1], 3).is_err());
        assert!(read_entry_bundle(&[0], 1).is_err());
    }

    fn hashes(level: u8, index: u64, width: u16) -> Tile {
        Tile {
            kind: TileKind::Hashes { level },
            index,
            width,
        }
    }

    #[test]
    fn paths_follow_the_spec() {
        assert_eq!(hashes(0, 0, 256).path(), "tile/0/000");
        assert_eq!(hashes(4, 1_234_067, 256).path(), "tile/4/x001/x234/067");
        assert_eq!(hashes(4, 1_234_067, 1).path(), "tile/4/x001/x234/067.p/1");
        let bundle = Tile {
            kind: TileKind::Entries,
            index: 1000,
            width: 17,
        };
        assert_eq!(bundle.path(), "tile/entries/x001/000.p/17");
        for tile in [
            hashes(0, 0, 256),
            hashes(4, 1_234_067, 1),
            hashes(63, u64::MAX, 255),
            bundle,
        ] {
            assert_eq!(Tile::parse(&tile.path()), Ok(tile));
        }
    }

    #[test]
    fn only_canonical_paths_parse() {
        for bad in [
            "",
            "tile/0",
            "tile/0/",
            "tile/00/000",
            "tile/64/000",
            "tile/0/0",
            "tile/0/0000",
            "tile/0/x000/001",
            "tile/0/001/002",
            "tile/0/x001",
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/0/000.p/01",
            "tile/0/000.p/",
            "tile/data/000",
            "tile/entries/../000",
            "tile/0/-01",
            "tile/0/x018/x446/x744/x073/x709/x551/616",
            "/tile/0/000",
            "tile/0/000/",
        ] {
            assert_eq!(Tile::parse(bad), Err(NotATilePath), "{bad}");
        }
    }

    /// The spec's example: a tree of 70 000 has 273 full level-0 tiles, one partial of width
    /// 112, one full level-1 tile, one partial level-1 tile of width 17 and one level-2 tile
    /// of width 1; a tree of 256, one full level-0 tile and a level-1 tile of width 1.
    #[test]
    fn a_tree_has_the_tiles_the_spec_says() {
        let tiles = Tile::added_between(0, 70_000);
        let level = |l: u8| -> Vec<Tile> {
            tiles
                .iter()
                .copied()
                .filter(|t| t.kind == TileKind::Hashes { level: l })
                .collect()
        };
        assert_eq!(level(0).len(), 274);
        assert_eq!(level(0).iter().filter(|t| t.is_full()).count(), 273);
        assert_eq!(level(0).last().unwrap().width(), 112);
        assert_eq!(level(1), vec![hashes(1, 0, 256), hashes(1, 1, 17)]);
        assert_eq!(level(2), vec![hashes(2, 0, 1)]);
        assert!(level(3).is_empty());
        let bundles = tiles.iter().filter(|t| t.kind == TileKind::Entries).count();
        assert_eq!(bundles, 274);
        assert_eq!(
            Tile::added_between(0, 256)
                .into_iter()
                .filter(|t| t.kind != TileKind::Entries)
                .collect::<Vec<_>>(),
            vec![hashes(0, 0, 256), hashes(1, 0, 1)]
        );
    }

    /// Growing the tree in steps writes, at each step, exactly the tiles of the new size that
    /// the old size lacked; together with the old ones they are the new size's tiles.
    #[test]
    fn growth_adds_exactly_the_new_tiles() {
        fn current(size: u64) -> std::collections::BTreeSet<String> {
            Tile::added_between(0, size).iter().map(Tile::path).collect()
        }
        let mut written = std::collections::BTreeSet::new();
        let mut size = 0;
        for step in [1u64, 254, 1, 1, 300, 65_000, 536, 1, 4000] {
            let added = Tile::added_between(size, size + step);
            for tile in &added {
                assert!(written.insert(tile.path()), "{} written twice", tile.path());
                assert!(tile.span().end <= (size + step) >> tile.tree_level());
            }
            size += step;
            let now = current(size);
            assert!(now.is_subset(&written));
            for tile in &added {
                assert!(now.contains(&tile.path()), "{} is not in a tree of {size}", tile.path());
            }
        }
        assert!(Tile::added_between(size, size).is_empty());
        assert!(Tile::added_between(size, size - 1).is_empty());
    }

    #[test]
    fn entry_bundles_are_length_prefixed() {
        let entries: [&[u8]; 2] = [b"ab", b""];
        assert_eq!(entry_bundle(0, entries).unwrap(), vec![0, 2, b'a', b'b', 0, 0]);
        let long = vec![0u8; 65_536];
        assert_eq!(
            entry_bundle(7, [&b"x"[..], &long]),
            Err(EntryTooLong { index: 8, len: 65_536 })
        );
    }
}
