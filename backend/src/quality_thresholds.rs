//! The `--min-*` options of `ingest` and `serve`: one per quality measure,
//! derived from [`Measure::ALL`] so that a new dimension has its option (and
//! its environment variable and default) without an edit here.

use api_types::Measure;
use clap::{Arg, ArgMatches, Args, Command, FromArgMatches};
use etl::kpi::QualityThresholds;
use etl::Pct;

/// The minimum of the overall score and of each dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThresholdArgs(pub QualityThresholds);

/// The option's name: `min-quality-score`, `min-<dimension>`.
fn option(m: Measure) -> String {
    match m {
        Measure::Overall => "min-quality-score".to_owned(),
        Measure::Dimension(d) => format!("min-{}", d.key()),
    }
}

fn help(m: Measure) -> String {
    match m {
        Measure::Overall => "Minimum overall quality score: below it, a warning and an alert".to_owned(),
        Measure::Dimension(d) => format!("Minimum {} ({})", d.key(), d.meaning()),
    }
}

/// A percentage as the README's thresholds table writes it: `90`, `99.5` (no `%`).
#[cfg(test)]
fn plain(p: Pct) -> String {
    p.to_string().trim_end_matches('%').to_owned()
}

impl Args for ThresholdArgs {
    fn augment_args(cmd: Command) -> Command {
        let defaults = QualityThresholds::default();
        Measure::ALL.into_iter().fold(cmd, |cmd, m| {
            let name = option(m);
            cmd.arg(
                Arg::new(name.clone())
                    .long(name.clone())
                    .env(name.to_uppercase().replace('-', "_"))
                    .value_name("PCT")
                    .value_parser(clap::value_parser!(Pct))
                    .default_value(defaults.get(m).to_string())
                    .help(help(m)),
            )
        })
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for ThresholdArgs {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut args = ThresholdArgs(QualityThresholds::default());
        args.update_from_arg_matches(matches)?;
        Ok(args)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        for m in Measure::ALL {
            if let Some(min) = matches
                .try_get_one::<Pct>(&option(m))
                .map_err(|e| clap::Error::raw(clap::error::ErrorKind::InvalidValue, format!("--{}: {e}", option(m))))?
            {
                self.0.set(m, *min);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use api_types::Dimension;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        thresholds: ThresholdArgs,
    }

    #[test]
    fn each_measure_has_its_option_with_the_default_of_the_enum() {
        let cli = Cli::try_parse_from(["backend"]).unwrap();
        assert_eq!(cli.thresholds.0, QualityThresholds::default());
        let cli = Cli::try_parse_from(["backend", "--min-quality-score", "70", "--min-integrity", "12.5"]).unwrap();
        assert_eq!(cli.thresholds.0.overall, Pct::from_basis_points(7_000));
        assert_eq!(
            cli.thresholds.0.dimensions[Dimension::Integrity],
            Pct::from_basis_points(1_250)
        );
        assert!(Cli::try_parse_from(["backend", "--min-validity", "101"]).is_err());
        let help = <Cli as clap::CommandFactory>::command().render_long_help().to_string();
        for d in Dimension::ALL {
            assert!(help.contains(&format!("--min-{}", d.key())), "{help}");
            assert!(help.contains(&format!("MIN_{}", d.key().to_uppercase())), "{help}");
        }
        assert!(help.contains("[default: 99%]"), "{help}");
    }

    /// The README documents every dimension and every minimum with its
    /// default: a new dimension without its documentation fails here.
    #[test]
    fn the_readme_documents_every_dimension_and_minimum() {
        let readme = include_str!("../../README.md");
        let defaults = QualityThresholds::default();
        for m in Measure::ALL {
            let row = format!(
                "| `--{}` (`{}`) | {} |",
                option(m),
                option(m).to_uppercase().replace('-', "_"),
                plain(defaults.get(m))
            );
            assert!(readme.contains(&row), "README.md lacks the row {row}");
        }
        for d in Dimension::ALL {
            let definition = format!("- **{}**", d.key());
            assert!(
                readme.contains(&definition),
                "README.md lacks the definition {definition}"
            );
        }
    }
}
