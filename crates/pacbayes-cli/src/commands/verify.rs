//! `pacbayes verify FILE`: recompute a certificate from its recorded quantities.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use pacbayes_eval::{CertificateRecord, Kind, show};

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// A certificate.json.
    file: PathBuf,
}

pub(crate) fn run(args: VerifyArgs) -> Result<()> {
    println!("{}", verify(&args.file)?);
    Ok(())
}

/// Reads and verifies the certificate in `file`; on success, a line saying what it certifies and one
/// saying which code and machine computed it.
///
/// # Errors
/// An unreadable file, or a record that does not verify (exit status 2: the input is at fault).
pub(crate) fn verify(file: &std::path::Path) -> Result<String> {
    let record = CertificateRecord::read(file)?;
    record.verify()?;
    let (z, c) = (&record.zero_one, &record.cross_entropy);
    // Certified upper bounds are shown rounded up, never to the nearest.
    let up = |x: f64| show(x, Kind::UpperBound, 4);
    Ok(format!(
        "ok: risk ≤ {} (0-1 loss), ≤ {} (bounded cross-entropy), each with probability ≥ {} \
         (n = {}, KL = {:.2} nats, {} Monte Carlo draws)\nmade by: {}",
        up(z.bound),
        up(c.bound),
        1.0 - z.delta - z.delta_mc.unwrap_or(0.0),
        record.n_bound,
        record.kl,
        record.protocol.mc_samples,
        record.provenance.summary()
    ))
}
