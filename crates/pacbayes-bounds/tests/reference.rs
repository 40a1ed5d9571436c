//! The crate's values against arbitrary-precision references.
//!
//! The CSV files in `tests/reference/` were produced by `tests/reference/make_reference.py`
//! (and `binomial.csv` by `tests/reference/make_binomial.py`) (mpmath
//! at 60 digits, inputs taken as the exact binary64 values Rust parses). Each row gives the exact
//! value to 40 digits and its neighbouring doubles below (`floor`) and above (`ceil`).

use pacbayes_bounds::{BoundInputs, BoundKind, McTerm, binomial_tail_upper, kl, kl_inv_lower, kl_inv_upper};

struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn read(name: &str) -> Self {
        let path = format!("{}/tests/reference/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut lines = text.lines().map(|l| l.split(',').map(str::to_owned).collect::<Vec<_>>());
        let header = lines.next().expect("a header line");
        Self { header, rows: lines.collect() }
    }

    fn column(&self, name: &str) -> usize {
        self.header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name}"))
    }

    fn f64(&self, row: &[String], name: &str) -> f64 {
        let cell = &row[self.column(name)];
        cell.parse().unwrap_or_else(|_| panic!("{name} = {cell:?} is not a number"))
    }
}

/// `got` is at or above the exact value (≥ its ceiling double) and within `rel` of it.
fn assert_upper(got: f64, ceil: f64, rel: f64, what: &str) {
    assert!(got >= ceil, "{what}: {got:e} is below the exact value (ceiling {ceil:e})");
    assert!(
        got - ceil <= rel * ceil.abs(),
        "{what}: {got:e} exceeds the exact value {ceil:e} by more than {rel:e}"
    );
}

/// `got` is at or below the exact value (≤ its floor double) and within `rel` of it.
fn assert_lower(got: f64, floor: f64, rel: f64, what: &str) {
    assert!(got <= floor, "{what}: {got:e} is above the exact value (floor {floor:e})");
    assert!(
        floor - got <= rel * floor.abs(),
        "{what}: {got:e} is below the exact value {floor:e} by more than {rel:e}"
    );
}

#[test]
fn kl_matches_the_reference() {
    let t = Table::read("kl.csv");
    for row in &t.rows {
        let (q, p) = (t.f64(row, "q"), t.f64(row, "p"));
        let (floor, ceil) = (t.f64(row, "kl_floor"), t.f64(row, "kl_ceil"));
        let got = kl(q, p).unwrap();
        if ceil.is_infinite() {
            assert!(got.is_infinite(), "kl({q}, {p}) = {got}, expected inf");
        } else {
            let tol = 1e-14 * ceil + 1e-300;
            assert!(
                got >= floor - tol && got <= ceil + tol,
                "kl({q}, {p}) = {got:e}, exact in [{floor:e}, {ceil:e}]"
            );
        }
    }
}

#[test]
fn inverses_err_only_outward_and_by_at_most_1e_12() {
    let t = Table::read("kl_inv.csv");
    assert!(t.rows.len() > 100);
    for row in &t.rows {
        let (q, c) = (t.f64(row, "q"), t.f64(row, "c"));
        let what = format!("(q, c) = ({q}, {c})");
        assert_upper(kl_inv_upper(q, c).unwrap(), t.f64(row, "upper_ceil"), 1e-12, &format!("upper {what}"));
        assert_lower(kl_inv_lower(q, c).unwrap(), t.f64(row, "lower_floor"), 1e-12, &format!("lower {what}"));
    }
}

#[test]
fn bounds_are_never_optimistic_and_tight() {
    let t = Table::read("bounds.csv");
    for row in &t.rows {
        let n: u64 = row[t.column("n")].parse().unwrap();
        let inputs =
            BoundInputs::new(t.f64(row, "emp_risk"), t.f64(row, "kl"), n, t.f64(row, "delta")).unwrap();
        let kind_name = &row[t.column("kind")];
        let kind = BoundKind::from_name(kind_name).unwrap();
        let got = kind.evaluate(&inputs).value;
        assert_upper(got, t.f64(row, "bound_ceil"), 1e-12, &format!("{kind_name} on {row:?}"));
    }
}

#[test]
fn the_mc_term_is_paid_in_full() {
    let t = Table::read("mc.csv");
    for row in &t.rows {
        let m: u64 = row[t.column("samples")].parse().unwrap();
        let term = McTerm::new(m, t.f64(row, "delta_mc")).unwrap();
        let got = term.upper(t.f64(row, "estimate")).unwrap();
        // The rounding-error bound of the tail grows with the number of terms: 1e-10 relative.
        assert_upper(got, t.f64(row, "upper_ceil"), 1e-10, &format!("{row:?}"));
    }
}

#[test]
fn the_binomial_test_set_bound_errs_only_upward() {
    let t = Table::read("binomial.csv");
    assert!(t.rows.len() >= 10);
    for row in &t.rows {
        let errors: u64 = row[t.column("errors")].parse().unwrap();
        let n: u64 = row[t.column("n")].parse().unwrap();
        let got = binomial_tail_upper(errors, n, t.f64(row, "delta")).unwrap();
        // The rounding-error bound of the tail grows with the number of terms: 1e-10 relative.
        assert_upper(got, t.f64(row, "upper_ceil"), 1e-10, &format!("{row:?}"));
    }
}
