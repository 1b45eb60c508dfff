//! The one CSV writer of the platform: every file it exports (claims, the audit log, batches of
//! claim codes) is written here, on the `csv` crate (RFC 4180 quoting, CRLF line ends), with
//! one formula rule, so that no cell opened in a spreadsheet runs as a formula.

use std::borrow::Cow;

use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

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
        let writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .quote_style(csv::QuoteStyle::Necessary)
            .from_writer(Vec::new());
        let mut file = Self { writer };
        file.row(header.iter().copied())?;
        Ok(file)
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
        let body = self.into_bytes()?;
        Ok((
            [
                (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
            ],
            body,
        )
            .into_response())
    }
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
