//! The LaTeX table compiles in a minimal `article` (when `pdflatex` is installed; CI installs it only
//! on request, see `.ci/run`), and its structure is checked everywhere: booktabs rules, one cell per
//! column in every row, balanced braces, escaped text, the key and the rounding note.

use std::process::Command;

use candle_core::Device;
use pacbayes_data::{LinearTeacher, Split, SplitConfig};
use pacbayes_eval::{
    CertificateRecord, CertifySettings, PriorSummary, RunContext, TableStyle, TightnessTable, certify,
};
use pacbayes_nn::{Architecture, Network};

fn record(run: &str, architecture_seed: u64, description: &str) -> CertificateRecord {
    let teacher = LinearTeacher::new(vec![1.0, -1.0, 0.5], 0.05).unwrap();
    let data = teacher.train_test(300, 100, 3);
    let split = Split::new(data.train, SplitConfig::new(0.2, 5).unwrap()).unwrap();
    let q = Network::from_seed(
        Architecture::Linear { inputs: 3, classes: 2 },
        0.05,
        architecture_seed,
        &Device::Cpu,
    )
    .unwrap();
    let settings =
        CertifySettings { repetitions: Some(5), ensemble_size: 3, ..Default::default() }.check().unwrap();
    let context = RunContext {
        run: run.into(),
        dataset: "synthetic".into(),
        objective: "f-quad".into(),
        prior: PriorSummary {
            kind: "data-free".into(),
            description: description.into(),
            charges: vec![],
            union_cost_nats: 0.0,
        },
        posterior: serde_json::Value::Null,
        split: split.manifest(),
    };
    certify(&q, split.bound(), &data.test, &settings, &pacbayes_bounds::Ledger::new(), context, &()).unwrap()
}

fn table() -> String {
    let records = [
        record("run_a", 1, "random init (seed 1), sigma0 = 0.05 & 100% of _S_ #1"),
        record("run_b", 2, "random init (seed 2), sigma0 = 0.05"),
        record("run_c", 3, "random init (seed 1), sigma0 = 0.05 & 100% of _S_ #1"),
    ];
    let style = TableStyle { bold_best: true, ..TableStyle::default() }.check().unwrap();
    TightnessTable::new(&records).to_latex(&style)
}

#[test]
fn the_latex_table_is_well_formed() {
    let tex = table();
    let body: Vec<&str> = tex.lines().collect();
    let spec_line = body.iter().find(|l| l.starts_with("\\begin{tabular}")).expect("a tabular");
    let spec = spec_line.trim_start_matches("\\begin{tabular}{").trim_end_matches('}');
    let top = body.iter().position(|l| *l == "\\toprule").unwrap();
    let bottom = body.iter().position(|l| *l == "\\bottomrule").unwrap();
    assert_eq!(body[top + 2], "\\midrule");
    for row in body[top + 1..bottom].iter().filter(|l| **l != "\\midrule") {
        assert!(row.ends_with(" \\\\"), "{row}");
        assert_eq!(row.matches(" & ").count() + 1, spec.len(), "{row}");
    }
    let (open, close) = (tex.matches('{').count(), tex.matches('}').count());
    let (escaped_open, escaped_close) = (tex.matches("\\{").count(), tex.matches("\\}").count());
    assert_eq!(open - escaped_open, close - escaped_close, "unbalanced braces:\n{tex}");
    assert!(tex.contains("100\\% of \\_S\\_ \\#1"), "{tex}");
    assert!(tex.contains("\\textsuperscript{a}") && tex.contains("\\textsuperscript{b}"), "{tex}");
    assert!(!tex.contains("\\textsuperscript{c}"), "one key entry per distinct description:\n{tex}");
    assert_eq!(tex.matches("\\textbf{").count(), 1, "one best certificate in the one group:\n{tex}");
    assert!(tex.contains("rounded up"), "{tex}");
    assert!(tex.contains(r"$\mathrm{KL}/n$") && tex.contains("$n$") && tex.contains(r"$\hat{e}$"), "{tex}");
}

#[test]
fn the_latex_table_compiles_in_a_minimal_article() {
    let found = Command::new("pdflatex").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        eprintln!(
            "skipped: no pdflatex on PATH (apt-get install texlive-latex-base texlive-latex-recommended; \
             .ci/run does it when PACBAYES_CI_TEX=1)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("table.tex"), table()).unwrap();
    let document = "\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n\\begin{table}\n\
                    \\centering\n\\input{table.tex}\n\\caption{Certificates.}\n\\end{table}\n\\end{document}\n";
    std::fs::write(dir.path().join("paper.tex"), document).unwrap();
    let out = Command::new("pdflatex")
        .args(["-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "paper.tex"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "pdflatex failed:\n{log}");
    assert!(dir.path().join("paper.pdf").is_file());
    assert!(!log.contains("Undefined control sequence"), "{log}");
}
