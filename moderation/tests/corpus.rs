//! Screening measured on a labelled corpus: `corpus/evasive.tsv` holds campaign copy that hides
//! a listed term (traditional and variant characters, look-alike letters, digits for letters,
//! pinyin, inflections, terms split across the title and the description, terms new to the
//! lists, and the older spacing tricks), `corpus/innocent.tsv` ordinary brand, museum, charity
//! and media copy, near-misses included. Each line is `kind<TAB>title<TAB>description`.
//!
//! The test fails if screening finds less than 95 % of the evasive texts or anything at all in
//! more than 3 % of the innocent ones; run it with `--nocapture` to see the figures per kind and
//! the texts it got wrong.

use std::collections::BTreeMap;

use moderation::TextScreener;

struct Record<'a> {
    line: usize,
    kind: &'a str,
    title: &'a str,
    description: &'a str,
}

fn records(source: &str) -> Vec<Record<'_>> {
    source
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|(i, l)| {
            let fields: Vec<&str> = l.split('\t').collect();
            assert_eq!(fields.len(), 3, "line {} has {} fields: {l}", i + 1, fields.len());
            Record {
                line: i + 1,
                kind: fields[0],
                title: fields[1],
                description: fields[2],
            }
        })
        .collect()
}

/// (flagged, total) per kind, and the records on the wrong side.
fn tally<'a>(screener: &TextScreener, records: &'a [Record<'a>]) -> (BTreeMap<&'a str, (usize, usize)>, Vec<String>) {
    let mut per_kind: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut flagged_lines = Vec::new();
    for r in records {
        let findings = screener.screen_fields(&[r.title, r.description]);
        let entry = per_kind.entry(r.kind).or_default();
        entry.1 += 1;
        if !findings.is_empty() {
            entry.0 += 1;
            let terms: Vec<&str> = findings.iter().map(|f| f.finding.term.as_str()).collect();
            flagged_lines.push(format!(
                "  line {} [{}] {} | {} -> {terms:?}",
                r.line, r.kind, r.title, r.description
            ));
        } else {
            flagged_lines.push(format!(
                "  line {} [{}] {} | {} -> nothing",
                r.line, r.kind, r.title, r.description
            ));
        }
    }
    (per_kind, flagged_lines)
}

#[test]
fn screening_catches_evasions_and_spares_innocent_copy() {
    measure(
        include_str!("corpus/evasive.tsv"),
        include_str!("corpus/innocent.tsv"),
        300,
    );
}

#[test]
fn screening_holds_on_texts_written_blind() {
    measure(
        include_str!("corpus/holdout-evasive.tsv"),
        include_str!("corpus/holdout-innocent.tsv"),
        100,
    );
}

/// Screens both sets, prints the figures and fails below the aims.
fn measure(evasive_source: &str, innocent_source: &str, at_least: usize) {
    let screener = TextScreener::starter();
    let evasive = records(evasive_source);
    let innocent = records(innocent_source);
    assert!(evasive.len() >= at_least, "{} evasive texts", evasive.len());
    assert!(innocent.len() >= at_least, "{} innocent texts", innocent.len());

    let (caught, lines) = tally(&screener, &evasive);
    let missed: Vec<&String> = lines.iter().filter(|l| l.ends_with("nothing")).collect();
    let (wrongly, lines) = tally(&screener, &innocent);
    let false_alarms: Vec<&String> = lines.iter().filter(|l| !l.ends_with("nothing")).collect();

    let recall = 1.0 - missed.len() as f64 / evasive.len() as f64;
    let false_positive_rate = false_alarms.len() as f64 / innocent.len() as f64;
    println!("evasive texts found, per kind:");
    for (kind, (found, total)) in &caught {
        println!("  {kind:12} {found:4} / {total:4}");
    }
    println!("innocent texts flagged, per kind:");
    for (kind, (flagged, total)) in &wrongly {
        println!("  {kind:12} {flagged:4} / {total:4}");
    }
    println!(
        "recall {:.1} % ({} of {}), false positives {:.1} % ({} of {})",
        recall * 100.0,
        evasive.len() - missed.len(),
        evasive.len(),
        false_positive_rate * 100.0,
        false_alarms.len(),
        innocent.len()
    );
    println!("missed:");
    for line in &missed {
        println!("{line}");
    }
    println!("false alarms:");
    for line in &false_alarms {
        println!("{line}");
    }
    assert!(recall >= 0.95, "recall {:.1} % is below 95 %", recall * 100.0);
    assert!(
        false_positive_rate <= 0.03,
        "false positives {:.1} % are above 3 %",
        false_positive_rate * 100.0
    );
}
