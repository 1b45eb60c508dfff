//! Pages of long lists. A list is read by keyset: each page continues after the last key of
//! the one before, in a stable order backed by an index, never by skipping rows with OFFSET,
//! so that the ten-thousandth page of a million-token collection costs what the first does.

use chrono::{DateTime, Utc};
use thiserror::Error;

use super::ids::{CollectionId, IssuerId, TokenId, UserId};

/// Why a page could not be read as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PageError {
    #[error("a page holds from 1 to {max} rows", max = PageSize::MAX)]
    Size,
    #[error("the cursor is not one a page of this list returned")]
    Cursor,
}

/// How many rows a page holds: bounded, so no request reads a table whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize(u32);

impl PageSize {
    /// The most rows one page returns.
    pub const MAX: u32 = 1_000;
    /// A page when the client names no size.
    pub const DEFAULT: PageSize = PageSize(100);
    /// The largest page, which exports read with.
    pub const MAX_PAGE: PageSize = PageSize(Self::MAX);

    pub const fn new(rows: u32) -> Result<Self, PageError> {
        if rows == 0 || rows > Self::MAX {
            Err(PageError::Size)
        } else {
            Ok(PageSize(rows))
        }
    }

    /// A size the code names itself: out of bounds, the build fails (in a `const`).
    pub const fn fixed(rows: u32) -> Self {
        match Self::new(rows) {
            Ok(size) => size,
            Err(_) => panic!("a page holds from 1 to PageSize::MAX rows"),
        }
    }

    /// The size a client asked for as text, or the default when it asked for none.
    pub fn parse(asked: Option<&str>) -> Result<Self, PageError> {
        match asked {
            None | Some("") => Ok(Self::DEFAULT),
            Some(text) => Self::new(text.parse().map_err(|_| PageError::Size)?),
        }
    }

    pub const fn get(self) -> u32 {
        self.0
    }

    /// How many rows to read: one more than the page, which only tells whether there is a next.
    pub const fn fetch(self) -> u64 {
        self.0 as u64 + 1
    }
}

/// A list key a client hands back to continue a list: a row's position in its order.
pub trait Cursor: Sized {
    fn parse(text: &str) -> Result<Self, PageError>;
    fn encode(&self) -> String;
}

/// Lists in serial or id order continue after a number.
macro_rules! numeric_cursor {
    ($($t:ty),*) => {$(
        impl Cursor for $t {
            fn parse(text: &str) -> Result<Self, PageError> {
                text.parse().map_err(|_| PageError::Cursor)
            }

            fn encode(&self) -> String {
                self.to_string()
            }
        }
    )*};
}
numeric_cursor!(u32, i64, CollectionId, IssuerId, TokenId, UserId);

/// A place in a list ordered by time, ties broken by id (the audit log): the time to the
/// nanosecond, so that the next page starts exactly after the row it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeKey {
    pub at: DateTime<Utc>,
    pub id: i64,
}

impl Cursor for TimeKey {
    fn parse(text: &str) -> Result<Self, PageError> {
        let (nanos, id) = text.split_once('_').ok_or(PageError::Cursor)?;
        Ok(TimeKey {
            at: DateTime::from_timestamp_nanos(nanos.parse().map_err(|_| PageError::Cursor)?),
            id: id.parse().map_err(|_| PageError::Cursor)?,
        })
    }

    fn encode(&self) -> String {
        // Times this far from the epoch (beyond the year 2262) are not written by this platform.
        format!("{}_{}", self.at.timestamp_nanos_opt().unwrap_or(i64::MAX), self.id)
    }
}

/// The cursor a client sent, if any.
pub fn after<K: Cursor>(sent: Option<&str>) -> Result<Option<K>, PageError> {
    sent.filter(|text| !text.is_empty()).map(K::parse).transpose()
}

/// One page of a list, and the key the next page starts after (`None` on the last page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T, K> {
    pub items: Vec<T>,
    pub next: Option<K>,
}

impl<T, K> Page<T, K> {
    /// A page from up to [`PageSize::fetch`] rows read in list order: a row beyond the page
    /// only says that there is a next page, which starts after the page's last row.
    pub fn from_rows(mut rows: Vec<T>, size: PageSize, key: impl Fn(&T) -> K) -> Self {
        let more = rows.len() > size.get() as usize;
        rows.truncate(size.get() as usize);
        let next = if more { rows.last().map(key) } else { None };
        Page { items: rows, next }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U, K> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_bounded() {
        assert_eq!(PageSize::parse(None), Ok(PageSize::DEFAULT));
        assert_eq!(PageSize::parse(Some("")), Ok(PageSize::DEFAULT));
        assert_eq!(PageSize::parse(Some("1")).map(PageSize::get), Ok(1));
        assert_eq!(PageSize::parse(Some("1000")).map(PageSize::get), Ok(1000));
        for bad in ["0", "1001", "-1", "ten", "1e3"] {
            assert_eq!(PageSize::parse(Some(bad)), Err(PageError::Size), "{bad}");
        }
        assert_eq!(PageSize::new(10).unwrap().fetch(), 11);
        assert_eq!(PageSize::fixed(60).get(), 60);
    }

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        assert_eq!(after::<u32>(None), Ok(None));
        assert_eq!(after::<u32>(Some("")), Ok(None));
        assert_eq!(after::<u32>(Some(&42u32.encode())), Ok(Some(42)));
        assert_eq!(after::<i64>(Some("-3")), Ok(Some(-3)));
        assert_eq!(after::<u32>(Some("-3")), Err(PageError::Cursor));
        assert_eq!(after::<u32>(Some("x")), Err(PageError::Cursor));
        let key = TimeKey {
            at: DateTime::parse_from_rfc3339("2026-12-06T23:45:00.123456789Z")
                .unwrap()
                .to_utc(),
            id: 7,
        };
        assert_eq!(after::<TimeKey>(Some(&key.encode())), Ok(Some(key)));
        for bad in ["7", "x_7", "1_x", "_"] {
            assert_eq!(after::<TimeKey>(Some(bad)), Err(PageError::Cursor), "{bad}");
        }
    }

    #[test]
    fn the_row_beyond_the_page_only_signals_a_next_page() {
        let size = PageSize::new(3).unwrap();
        let full = Page::from_rows(vec![1, 2, 3, 4], size, |n| *n);
        assert_eq!(full.items, [1, 2, 3]);
        assert_eq!(full.next, Some(3));
        let last = Page::from_rows(vec![7, 8, 9], size, |n| *n);
        assert_eq!((last.items.len(), last.next), (3, None));
        let empty = Page::from_rows(Vec::<i32>::new(), size, |n| *n);
        assert_eq!((empty.items.len(), empty.next), (0, None));
        assert_eq!(full.map(|n| n * 10).items, [10, 20, 30]);
    }
}
