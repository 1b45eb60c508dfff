//! The one CSV writer of the platform: every file it exports (claims, the audit log, batches of
//! claim codes) is written here, on the `csv` crate (RFC 4180 quoting, CRLF line ends), with
//! one formula rule, so that no cell opened in a spreadsheet runs as a formula. Exports of
//! lists that grow without bound are streamed a page at a time ([`streamed`]), so a file of a
//! million rows costs the server one page of memory.

use std::borrow::Cow;
use std::future::Future;

use axum::body::{Body, Bytes};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use futures_util::{StreamExt, stream};

use super::error::AppResult;

/// The OWASP rule against CSV injection: a cell that begins with `=`, `+`, `-`, `@`, a tab or
/// a carriage return gets a leading apostrophe, so a spreadsheet shows it as text.
pub fn defuse(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A CSV file being written in memory: a header row, then data rows, every cell defused.
pub struct CsvFile {
    writer: csv::Writer<Vec<u8>>,
}

impl CsvFile {
    /// A file whose first row names the columns.
    pub fn new(header: &[&str]) -> AppResult<Self> {
        let mut file = Self::rows_only();
        file.row(header.iter().copied())?;
        Ok(file)
    }

    /// A part of a file: rows that follow what was written before.
    fn rows_only() -> Self {
        let writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .quote_style(csv::QuoteStyle::Necessary)
            .from_writer(Vec::new());
        Self { writer }
    }

    /// Appends one row.
    pub fn row<I, S>(&mut self, cells: I) -> AppResult<()>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let cells: Vec<String> = cells.into_iter().map(|c| defuse(c.as_ref()).into_owned()).collect();
        self.writer.write_record(&cells).map_err(anyhow::Error::from)?;
        Ok(())
    }

    /// The file's bytes.
    pub fn into_bytes(self) -> AppResult<Vec<u8>> {
        self.writer
            .into_inner()
            .map_err(|e| anyhow::anyhow!("cannot finish a CSV file: {}", e.error()).into())
    }

    /// The file as a download named `filename`.
    pub fn into_download(self, filename: &str) -> AppResult<Response> {
        Ok(download(filename, Body::from(self.into_bytes()?)))
    }
}

fn download(filename: &str, body: Body) -> Response {
    (
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
        ],
        body,
    )
        .into_response()
}

/// One page of an export's rows, and the cursor of the page after it (`None`: the last page).
pub type ExportPage<K> = (Vec<Vec<String>>, Option<K>);

/// A CSV download written a page at a time as the client reads it. `next_page` is given the
/// cursor the page before it returned (`None` for the first). The first page is read before
/// answering, so a refusal or a failing database still gets its error page; a failure after
/// that can only cut the download short, which the client sees as an incomplete transfer and
/// the log records.
pub async fn streamed<K, F, Fut>(filename: &str, header: &[&str], mut next_page: F) -> AppResult<Response>
where
    K: Send + 'static,
    F: FnMut(Option<K>) -> Fut + Send + 'static,
    Fut: Future<Output = AppResult<ExportPage<K>>> + Send + 'static,
{
    let (rows, next) = next_page(None).await?;
    let mut first = CsvFile::new(header)?;
    for row in rows {
        first.row(row)?;
    }
    let first = Bytes::from(first.into_bytes()?);
    let rest = stream::try_unfold((next, next_page), |(cursor, mut next_page)| async move {
        let Some(cursor) = cursor else {
            return Ok(None);
        };
        let written = async {
            let (rows, next) = next_page(Some(cursor)).await?;
            let mut part = CsvFile::rows_only();
            for row in rows {
                part.row(row)?;
            }
            AppResult::Ok((Bytes::from(part.into_bytes()?), next))
        };
        match written.await {
            Ok((bytes, next)) => Ok(Some((bytes, (next, next_page)))),
            Err(error) => {
                tracing::error!(%error, "a CSV export stopped part way");
                Err(std::io::Error::other("the export stopped part way"))
            }
        }
    });
    let body = stream::once(async move { Ok::<_, std::io::Error>(first) }).chain(rest);
    Ok(download(filename, Body::from_stream(body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_a_spreadsheet_would_run_get_an_apostrophe() {
        for (cell, written) in [
            ("=***@example.com", "'=***@example.com"),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
        ] {
            assert_eq!(defuse(cell), written);
        }
        for cell in ["plain", "a=b", "", "1-2", "'quoted", " =x"] {
            assert_eq!(defuse(cell), cell);
        }
    }

    #[test]
    fn cells_are_quoted_where_needed_and_rows_end_in_crlf() {
        let mut file = CsvFile::new(&["a", "b"]).unwrap();
        file.row(["x,y", "say \"hi\""]).unwrap();
        file.row(["=HYPERLINK(\"x\")", "line\nbreak"]).unwrap();
        let text = String::from_utf8(file.into_bytes().unwrap()).unwrap();
        assert_eq!(
            text,
            "a,b\r\n\"x,y\",\"say \"\"hi\"\"\"\r\n\"'=HYPERLINK(\"\"x\"\")\",\"line\nbreak\"\r\n"
        );
    }
}
