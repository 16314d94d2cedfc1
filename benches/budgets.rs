//! The budgets of DESIGN.md section 9 that live outside the screen: previews and digests,
//! line diffs of a 10,000-line note, and paging a long audit list (200,000 events by default;
//! `AUDIT_EVENTS=1000000 cargo bench` for the million of the budget, which takes minutes to
//! write before it measures).

use std::fmt::Write as _;
use std::hint::black_box;

use actionplane::domain::incident::Record;
use actionplane::domain::policy::Allowlist;
use actionplane::domain::preview::{self, CloseRequest, PreviewInput, line_diff};
use actionplane::store::{NewAuditEvent, Store};
use criterion::{Criterion, criterion_group, criterion_main};

fn sample_record() -> Record {
    Record::from_pairs(&[
        ("sys_id", "a1b2c3d4e5f60718293a4b5c6d7e8f90"),
        ("number", "INC-42"),
        ("state", "2"),
        ("sys_mod_count", "3"),
        ("sys_updated_on", "2026-12-01 09:00:00"),
    ])
}

fn previews(c: &mut Criterion) {
    let record = sample_record();
    let request = CloseRequest::sample("INC-42");
    let allowlist = Allowlist::new(
        "incident",
        ["state", "close_notes", "close_code", "work_notes"]
            .map(String::from)
            .to_vec(),
    );
    c.bench_function("preview and digest of the sample close", |b| {
        b.iter(|| {
            preview::build(black_box(&PreviewInput {
                action: "support.close-ticket",
                target: "embedded sandbox",
                is_sandbox: true,
                known_sandbox: true,
                production_acknowledged: true,
                record: &record,
                request: &request,
                allowlist: &allowlist,
                metadata: None,
                operator: "actionplane.integration",
            }))
        });
    });
}

fn diffs(c: &mut Criterion) {
    let mut before = String::new();
    for i in 0..10_000 {
        let _ = writeln!(before, "line {i} of the resolution notes");
    }
    let after = before.replace("line 5000 of", "line 5000, reworded, of");
    c.bench_function("line diff of a 10,000-line note", |b| {
        b.iter(|| line_diff(black_box(&before), black_box(&after)).len());
    });
}

fn audit_paging(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(&dir.path().join("bench.db")).expect("store");
    let events = std::env::var("AUDIT_EVENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200_000);
    for i in 0..events {
        let detail = serde_json::json!({"n": i});
        store
            .append_audit(&NewAuditEvent::new(None, "bench.event", "bench", detail))
            .expect("append");
    }
    c.bench_function("one screen of the audit list, newest first", |b| {
        b.iter(|| store.audit_page(black_box(0), 30).expect("page").len());
    });
    c.bench_function("one screen of the audit list, deep in history", |b| {
        b.iter(|| {
            store
                .audit_page(black_box(events / 2), 30)
                .expect("page")
                .len()
        });
    });
}

criterion_group!(benches, previews, diffs, audit_paging);
criterion_main!(benches);
