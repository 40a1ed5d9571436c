//! `pacbayes bound`: the calculator over `pacbayes-bounds`.

use anyhow::Result;
use clap::{Args, Subcommand};
use pacbayes_bounds::{
    BoundInputs, BoundKind, Certificate, Charge, Ledger, McTerm, binomial_tail_upper, kl_inv_lower,
    kl_inv_upper,
};

use crate::args;

#[derive(Debug, Subcommand)]
pub(crate) enum BoundCommand {
    /// Prints kl⁻¹(Q, C): the largest p with kl(Q‖p) ≤ C (with --lower, the smallest).
    KlInv(KlInvArgs),
    /// Prints a certificate from the empirical risk, the KL, n = |S_bound| and δ.
    Certify(CertifyArgs),
    /// Prints the test-set (Clopper–Pearson) bound of one classifier: the largest p with
    /// P[Bin(N, p) ≤ K] ≥ D.
    Heldout(HeldoutArgs),
}

#[derive(Debug, Args)]
pub(crate) struct HeldoutArgs {
    /// K, the errors made on the held-out examples.
    #[arg(long)]
    errors: u64,
    /// N, the number of held-out examples (none of them used to choose the classifier).
    #[arg(long, value_parser = args::positive_count)]
    n: u64,
    /// Confidence parameter δ.
    #[arg(long, value_parser = args::open_unit, allow_negative_numbers = true)]
    delta: f64,
}

#[derive(Debug, Args)]
pub(crate) struct KlInvArgs {
    /// The empirical value q ∈ [0, 1].
    #[arg(value_parser = args::probability, allow_negative_numbers = true)]
    q: f64,
    /// The budget c ≥ 0 in nats.
    #[arg(value_parser = args::non_negative, allow_negative_numbers = true)]
    c: f64,
    /// Print the lower inverse instead.
    #[arg(long)]
    lower: bool,
}

#[derive(Debug, Args)]
pub(crate) struct CertifyArgs {
    /// Empirical risk of Q on the bound set (the Monte Carlo estimate when --mc-samples is given).
    #[arg(long, value_parser = args::probability, allow_negative_numbers = true)]
    emp_risk: f64,
    /// KL(Q‖P) in nats.
    #[arg(long, value_parser = args::non_negative, allow_negative_numbers = true)]
    kl: f64,
    /// n = |S_bound|, the number of examples the empirical risk was measured on.
    #[arg(long, value_parser = args::positive_count)]
    n: u64,
    /// Confidence parameter δ of the bound.
    #[arg(long, value_parser = args::open_unit, allow_negative_numbers = true)]
    delta: f64,
    /// Number of independent Monte Carlo draws behind --emp-risk (pays the Langford–Caruana term).
    #[arg(long, value_parser = args::positive_count)]
    mc_samples: Option<u64>,
    /// Confidence parameter δ′ of the Monte Carlo term.
    #[arg(long, value_parser = args::open_unit, allow_negative_numbers = true, requires = "mc_samples", default_value_if("mc_samples", clap::builder::ArgPredicate::IsPresent, "0.01"))]
    delta_mc: Option<f64>,
    /// Which bound.
    #[arg(long, default_value = "kl", value_parser = ["kl", "mcallester", "quad", "lambda", "catoni"])]
    kind: String,
    /// The grid of λ (kind lambda) or C (kind catoni), comma-separated; its ln K is paid.
    #[arg(long, value_delimiter = ',', allow_negative_numbers = true)]
    grid: Option<Vec<f64>>,
    /// Union-bound cost in nats already incurred by choices made on the bound set.
    #[arg(long, value_parser = args::non_negative, allow_negative_numbers = true, default_value = "0")]
    union_cost_nats: f64,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(cmd: BoundCommand) -> Result<()> {
    match cmd {
        BoundCommand::KlInv(a) => {
            let p = if a.lower { kl_inv_lower(a.q, a.c)? } else { kl_inv_upper(a.q, a.c)? };
            println!("{p}");
        }
        BoundCommand::Heldout(a) => {
            if a.errors > a.n {
                return Err(crate::exit::UsageError(format!(
                    "--errors {} exceeds --n {}: expected at most N errors",
                    a.errors, a.n
                ))
                .into());
            }
            println!("{}", binomial_tail_upper(a.errors, a.n, a.delta)?);
        }
        BoundCommand::Certify(a) => {
            let cert = certify(&a)?;
            if a.json {
                println!("{}", serde_json::to_string(&cert)?);
            } else {
                print_text(&cert);
            }
        }
    }
    Ok(())
}

fn certify(a: &CertifyArgs) -> Result<Certificate> {
    let inputs = BoundInputs::new(a.emp_risk, a.kl, a.n, a.delta)?;
    let mc = match a.mc_samples {
        Some(m) => Some(McTerm::new(m, a.delta_mc.unwrap_or(0.01))?),
        None => None,
    };
    let kind = BoundKind::with_grid(&a.kind, a.grid.clone())?;
    let mut ledger = Ledger::new();
    if a.union_cost_nats > 0.0 {
        ledger.pay(Charge::nats("declared with --union-cost-nats", a.union_cost_nats)?);
    }
    Ok(Certificate::compute(&inputs, mc, &kind, &ledger)?)
}

fn print_text(c: &Certificate) {
    println!("bound ({}): {:.6}", c.kind, c.bound);
    println!("  holds with probability >= {}", 1.0 - c.delta - c.delta_mc.unwrap_or(0.0));
    println!("  emp_risk:        {}", c.emp_risk);
    match (c.mc_samples, c.delta_mc) {
        (Some(m), Some(d)) => {
            println!("  emp_risk_upper:  {:.6} (mc_samples = {m}, delta_mc = {d})", c.emp_risk_upper)
        }
        _ => println!("  emp_risk_upper:  {} (exact empirical risk, no Monte Carlo term)", c.emp_risk_upper),
    }
    println!("  kl:              {}", c.kl);
    println!("  n:               {}", c.n);
    println!("  delta:           {}", c.delta);
    println!("  union_cost_nats: {:.6}", c.union_cost_nats);
    for charge in c.charges.iter().chain(&c.grid_charge) {
        println!("    {charge}");
    }
    if let Some(p) = c.parameter {
        println!("  parameter:       {p}");
    }
}
