//! `certificate.json`: a real record verifies, survives a round trip through JSON, and every
//! tampered copy is rejected; the tightness table is written in four formats.

use candle_core::Device;
use pacbayes_bounds::{Charge, Ledger};
use pacbayes_data::{LinearTeacher, Split, SplitConfig};
use pacbayes_eval::{
    COLUMNS, CertificateRecord, CertifySettings, Error, PriorSummary, Protocol, RunContext, TightnessTable,
    certify,
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
        assert_eq!(back, r);
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

#[test]
fn records_are_written_once_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("certificate.json");
    let r = record(Protocol::Classic, "b");
    r.write_new(&path).unwrap();
    assert_eq!(CertificateRecord::read(&path).unwrap(), r);
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
    assert_eq!(names, COLUMNS);
    let dir = tempfile::tempdir().unwrap();
    let paths = table.write(dir.path()).unwrap();
    assert_eq!(paths.len(), 4);
    let csv = std::fs::read_to_string(&paths[0]).unwrap();
    assert_eq!(csv.lines().count(), 3);
    assert!(csv.starts_with(&COLUMNS.join(",")));
    let bound = format!("{:.4}", records[0].zero_one.bound);
    assert!(csv.lines().nth(1).unwrap().contains(bound.trim_end_matches('0')), "{csv}");
    let md = std::fs::read_to_string(&paths[2]).unwrap();
    assert_eq!(md.lines().count(), 4);
    assert!(md.contains(&bound));
    let tex = std::fs::read_to_string(&paths[3]).unwrap();
    assert!(tex.contains("\\toprule") && tex.contains("\\bottomrule") && tex.contains("fast\\_run"), "{tex}");
    assert!(std::fs::metadata(&paths[1]).unwrap().len() > 0);
    let printed = table.to_string();
    assert!(printed.contains("classic_run"), "{printed}");
}
