//! Allowlists: the email addresses an issuer lets claim a collection, read from an uploaded CSV
//! with a report of every row that could not be used.

use super::account::Email;

/// Most addresses one upload may hold.
pub const MAX_ALLOWLIST_ROWS: usize = 100_000;

/// A row that was left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    /// 1-based line number in the file.
    pub line: usize,
    pub content: String,
    pub problem: RowProblem,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowProblem {
    NotAnEmail,
    Duplicate,
}

impl RowProblem {
    pub const ALL: [RowProblem; 2] = [RowProblem::NotAnEmail, RowProblem::Duplicate];

    pub fn as_str(self) -> &'static str {
        match self {
            RowProblem::NotAnEmail => "not_an_email",
            RowProblem::Duplicate => "duplicate",
        }
    }
}

/// Reads the first column of each line as an address. Blank lines and a header (`email`) are
/// skipped; addresses are compared as the account rules normalise them.
pub fn parse_allowlist(text: &str) -> (Vec<Email>, Vec<BadRow>) {
    let mut emails: Vec<Email> = Vec::new();
    let mut bad = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let first = line.split([',', ';', '\t']).next().unwrap_or_default();
        let cell = first.trim().trim_matches('"').trim().trim_start_matches('\u{feff}');
        if cell.is_empty() || (index == 0 && cell.eq_ignore_ascii_case("email")) {
            continue;
        }
        let problem = match Email::parse(cell) {
            Ok(email) if emails.contains(&email) => RowProblem::Duplicate,
            Ok(email) => {
                emails.push(email);
                continue;
            }
            Err(_) => RowProblem::NotAnEmail,
        };
        bad.push(BadRow {
            line: index + 1,
            content: line.chars().take(200).collect(),
            problem,
        });
    }
    (emails, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_read_and_bad_ones_reported() {
        let csv = "\u{feff}email,name\nli.lei@example.cn,李雷\n\n\"HAN.MEIMEI@example.cn\"\nnot-an-email\nli.lei@example.cn\n";
        let (emails, bad) = parse_allowlist(csv);
        let listed: Vec<&str> = emails.iter().map(Email::as_str).collect();
        assert_eq!(listed.len(), 2, "{listed:?}");
        assert!(listed.contains(&"li.lei@example.cn"));
        assert_eq!(
            bad.iter().map(|b| (b.line, b.problem)).collect::<Vec<_>>(),
            vec![(5, RowProblem::NotAnEmail), (6, RowProblem::Duplicate)]
        );
    }

    /// Fuzz target (bolero): any upload is read into addresses and reported rows, never a
    /// panic; every address read is unique and reads back as itself.
    #[test]
    fn arbitrary_uploads_are_read() {
        bolero::check!().with_type::<String>().for_each(|text| {
            let (emails, bad) = parse_allowlist(text);
            for (i, email) in emails.iter().enumerate() {
                assert_eq!(Email::parse(email.as_str()).as_ref(), Ok(email));
                assert!(!emails[..i].contains(email));
            }
            assert!(
                bad.iter()
                    .all(|row| row.line >= 1 && row.content.chars().count() <= 200)
            );
        });
    }
}
