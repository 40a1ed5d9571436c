//! `certificate.json`: a real record verifies, survives a round trip through JSON, and every
//! tampered copy is rejected; the tightness table is written in four formats.

use candle_core::Device;
use pacbayes_bounds::{Charge, Ledger};
use pacbayes_data::{LinearTeacher, Split, SplitConfig};
use pacbayes_eval::{
    COLUMNS, CertificateRecord, CertifySettings, Error, Kind, PriorSummary, Protocol, RunContext, TableStyle,
    TightnessTable, certify,
};
use pacbayes_nn::{Architecture, Network};

fn record(protocol: Protocol, run: &str) -> CertificateRecord {
    let teacher = LinearTeacher::new(vec![1.0, -1.0, 0.5, 0.2], 0.05).unwrap();
    let data = teacher.train_test(400, 100, 3);
    let split = Split::new(data.train, SplitConfig::new(0.25, 5).unwrap()).unwrap();
    let arch = Architecture::Linear { inputs: 4, classes: 2 };
    let q = Network::from_seed(arch, 0.05, 9, &Device::Cpu).unwrap();
    let settings = CertifySettings {
        protocol,
        repetitions: Some(20),
        draws: 30,
        ensemble_size: 4,
        seed: 2,
        ..Default::default()
    }
    .check()
    .unwrap();
    let prior_charge = Charge::choice("sigma0 chosen among 4", 4).unwrap();
    let context = RunContext {
        run: run.into(),
        dataset: "synthetic".into(),
        objective: "fclassic".into(),
        prior: PriorSummary {
            kind: "data-free".into(),
            description: "random init, sigma0 = 0.05".into(),
            union_cost_nats: prior_charge.cost_nats,
            charges: vec![prior_charge],
        },
        posterior: serde_json::json!({"objective": "fclassic"}),
        split: split.manifest(),
    };
    let mut extra = Ledger::new();
    extra.pay(Charge::choice("checkpoint among 3", 3).unwrap());
    certify(&q, split.bound(), &data.test, &settings, &extra, context, &()).unwrap()
}

#[test]
fn a_real_record_verifies_and_round_trips() {
    for protocol in [Protocol::Fast, Protocol::Classic] {
        let r = record(protocol, "a");
        r.verify().unwrap();
        assert_eq!(r.n_bound, r.split.n_bound as u64);
        assert!(r.n_bound >= 295 && r.n_bound <= 305);
        let expected = if protocol == Protocol::Fast { 20 * r.n_bound } else { 30 };
        assert_eq!(r.protocol.mc_samples, expected);
        assert_eq!(r.zero_one.mc_samples, Some(expected));
        assert_eq!(r.charges.len(), 2);
        assert!((r.zero_one.union_cost_nats - 12f64.ln()).abs() < 1e-12);
        assert!(
            r.zero_one.emp_risk <= r.zero_one.emp_risk_upper && r.zero_one.emp_risk_upper < r.zero_one.bound
        );
        let back: CertificateRecord = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(back, without_clock(&r));
        back.verify().unwrap();
    }
}

#[test]
fn the_same_seed_gives_the_same_certificate() {
    let (a, b) = (record(Protocol::Fast, "a"), record(Protocol::Fast, "a"));
    assert_eq!(a.zero_one, b.zero_one);
    assert_eq!(a.test.stochastic.to_bits(), b.test.stochastic.to_bits());
}

#[test]
fn every_tampered_copy_is_rejected() {
    let good = record(Protocol::Fast, "a");
    type Tamper = (&'static str, fn(&mut CertificateRecord));
    let tampers: [Tamper; 23] = [
        ("format", |r| r.format = "pacbayes-certificate/99".into()),
        ("version", |r| r.version = "one".into()),
        ("n_bound", |r| r.n_bound += 1),
        ("n_bound", |r| r.split.n_bound -= 1),
        ("split", |r| r.split.n_train += 1),
        ("zero_one", |r| r.zero_one.bound *= 0.99),
        ("zero_one", |r| r.zero_one.emp_risk = (r.zero_one.emp_risk - 0.01).max(0.0) * 0.5),
        ("zero_one", |r| r.zero_one.n -= 1),
        ("cross_entropy", |r| r.cross_entropy.kl += 1.0),
        ("zero_one.kl", |r| r.kl += 1.0),
        ("settings", |r| r.settings.delta = 1.5),
        ("zero_one", |r| r.zero_one.delta = 0.5),
        ("zero_one", |r| r.zero_one.delta_mc = Some(0.2)),
        ("protocol.mc_samples", |r| r.protocol.mc_samples *= 2),
        ("protocol.mc_samples", |r| r.protocol.repetitions = Some(40)),
        ("protocol", |r| r.protocol.draws = Some(7)),
        ("zero_one", |r| r.zero_one.mc_samples = Some(1_000_000)),
        ("charges", |r| {
            r.charges.remove(0);
        }),
        ("prior.union_cost_nats", |r| r.prior.union_cost_nats = 0.0),
        ("zero_one", |r| r.zero_one.union_cost_nats = 0.0),
        ("gap", |r| r.gap -= 0.1),
        ("test.stochastic", |r| r.test.stochastic = 1.5),
        ("seeds", |r| r.seeds.split += 1),
    ];
    for (field, tamper) in tampers {
        let mut bad = good.clone();
        tamper(&mut bad);
        match bad.verify() {
            Err(Error::Rejected { field: found, reason }) => {
                assert!(found.starts_with(field), "expected {field}, rejected on {found}: {reason}");
            }
            other => panic!("tampering {field} went unnoticed: {other:?}"),
        }
    }
    // The same, through the JSON a referee would edit: an unknown key is not a certificate.
    let mut value: serde_json::Value = serde_json::from_str(&good.to_json()).unwrap();
    value["zero_one"]["bound"] = serde_json::json!(good.zero_one.bound - 1e-6);
    let bad: CertificateRecord = serde_json::from_value(value.clone()).unwrap();
    assert!(bad.verify().is_err());
    value["extra"] = serde_json::json!(1);
    assert!(serde_json::from_value::<CertificateRecord>(value).is_err());
}

/// `r` as its JSON holds it: every field but the wall times, which `timings.json` keeps.
fn without_clock(r: &CertificateRecord) -> CertificateRecord {
    let mut kept = r.clone();
    kept.wall_seconds = pacbayes_eval::WallTimes::default();
    kept.test.seconds = 0.0;
    kept
}

#[test]
fn records_are_written_once_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("certificate.json");
    let r = record(Protocol::Classic, "b");
    r.write_new(&path).unwrap();
    assert_eq!(CertificateRecord::read(&path).unwrap(), without_clock(&r));
    assert!(matches!(r.write_new(&path), Err(Error::Io { .. })));
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "no temporary file is left behind");
}

#[test]
fn the_tightness_table_has_a_row_per_run_in_four_formats() {
    let records = [record(Protocol::Fast, "fast_run"), record(Protocol::Classic, "classic_run")];
    let table = TightnessTable::new(&records);
    let df = table.to_data_frame().unwrap();
    assert_eq!(df.height(), 2);
    let names: Vec<String> = df.get_column_names().iter().map(|n| n.to_string()).collect();
    let expected: Vec<&str> = COLUMNS.iter().map(|c| c.name).collect();
    assert_eq!(names, expected);
    let dir = tempfile::tempdir().unwrap();
    let paths = table.write(dir.path()).unwrap();
    assert_eq!(paths.len(), 4);
    let csv = std::fs::read_to_string(&paths[0]).unwrap();
    assert_eq!(csv.lines().count(), 3);
    assert!(csv.starts_with(&expected.join(",")));
    // Full precision: the CSV reads back to the very f64 of the record.
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let at = |name: &str| header.iter().position(|h| *h == name).unwrap();
    for (line, r) in csv.lines().skip(1).zip(&records) {
        let cells = split_csv(line);
        let bound: f64 = cells[at("bound")].parse().unwrap();
        assert_eq!(bound.to_bits(), r.zero_one.bound.to_bits(), "{line}");
        let kl: f64 = cells[at("kl")].parse().unwrap();
        assert_eq!(kl.to_bits(), r.kl.to_bits());
        let kl_over_n: f64 = cells[at("kl_over_n")].parse().unwrap();
        assert_eq!(kl_over_n.to_bits(), r.kl_over_n.to_bits());
        assert_eq!(cells[at("mc_samples")], r.protocol.mc_samples.to_string());
        assert_eq!(cells[at("delta")], "0.025");
        assert_eq!(cells[at("commit")], r.provenance.code());
    }
    let shown = pacbayes_eval::show(records[0].zero_one.bound, Kind::UpperBound, 4);
    let md = std::fs::read_to_string(&paths[2]).unwrap();
    assert_eq!(md.lines().filter(|l| l.starts_with('|')).count(), 4, "{md}");
    assert!(md.contains(&shown), "{md}");
    assert!(md.contains("rounded up"), "{md}");
    let tex = std::fs::read_to_string(&paths[3]).unwrap();
    assert!(tex.contains("\\toprule") && tex.contains("\\bottomrule") && tex.contains(r"$\hat{e}$"), "{tex}");
    assert!(tex.contains(r"data-free\textsuperscript{a}") && tex.contains("random init"), "{tex}");
    assert!(std::fs::metadata(&paths[1]).unwrap().len() > 0);
    let printed = table.to_string();
    assert!(printed.contains("classic_run"), "{printed}");
    assert!(printed.lines().all(|l| l.chars().count() <= 100), "{printed}");
    let wide = table.to_terminal(&TableStyle { wide: true, ..TableStyle::default() }.check().unwrap());
    assert!(wide.contains("random init, sigma0 = 0.05"), "{wide}");
    assert!(wide.contains("MC draws"), "{wide}");
}

/// The cells of a CSV line (quoted cells may hold commas).
fn split_csv(line: &str) -> Vec<String> {
    let (mut cells, mut cell, mut quoted) = (Vec::new(), String::new(), false);
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => cells.push(std::mem::take(&mut cell)),
            _ => cell.push(c),
        }
    }
    cells.push(cell);
    cells
}

#[test]
fn a_table_of_rows_made_by_different_code_is_refused() {
    let (a, mut b) = (record(Protocol::Fast, "a"), record(Protocol::Fast, "b"));
    TightnessTable::new(&[a.clone(), b.clone()]).check_single_code().unwrap();
    b.provenance.commit = "0".repeat(40);
    b.provenance.dirty = Some(false);
    match TightnessTable::new(&[a, b]).check_single_code() {
        Err(Error::MixedCode { run, first_run, .. }) => {
            assert_eq!((run.as_str(), first_run.as_str()), ("b", "a"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_same_table_gives_the_same_bytes() {
    let records = [record(Protocol::Fast, "a"), record(Protocol::Classic, "b")];
    let table = TightnessTable::new(&records);
    let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (first, second) = (table.write(one.path()).unwrap(), table.write(two.path()).unwrap());
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(std::fs::read(a).unwrap(), std::fs::read(b).unwrap(), "{} differs", a.display());
    }
    // A record read back and written again is the same text.
    let path = one.path().join("certificate.json");
    records[0].write_new(&path).unwrap();
    let again = CertificateRecord::read(&path).unwrap();
    assert_eq!(again.to_json(), std::fs::read_to_string(&path).unwrap());
}
