//! The configuration flags the model-checking commands share: a preset or a TOML file, plus
//! mutations.

use std::path::PathBuf;

use sa_model::{Config, ConfigError};

/// The configuration other commands (`sa report`, `sa explore`) take, as `sa check` does.
#[derive(clap::Args, Debug)]
pub struct ConfigArgs {
    /// Built-in preset (default, tiny, small, two-eligible, byzantine, byzantine-over,
    /// async-final, byzantine-async, emergency, matured, warnings, stall, rejoin, largest, dusk, mainnet).
    #[arg(long, default_value = "default", conflicts_with = "config")]
    pub preset: String,
    /// TOML configuration file instead of a preset.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Enable a mutation (broken variant); repeatable (`sa check --list-mutations`).
    #[arg(long = "mutation", value_name = "NAME")]
    pub mutations: Vec<String>,
}

impl ConfigArgs {
    /// The configuration named, validated and within the model's limits.
    pub fn load(&self) -> Result<Config, ConfigError> {
        load_config(&self.preset, self.config.as_deref(), &self.mutations, false)
    }
}

/// The configuration a command names: a preset or a TOML file, plus mutations; validated
/// (and, unless `print_only`, checked against the model's limits).
pub fn load_config(
    preset: &str,
    file: Option<&std::path::Path>,
    mutations: &[String],
    print_only: bool,
) -> Result<Config, ConfigError> {
    let mut config = match file {
        Some(path) => {
            let origin = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Parse {
                origin: origin.clone(),
                message: format!("cannot read file: {e}"),
            })?;
            let mut c = Config::from_toml_str(&text, &origin)?;
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_else(|| origin.clone());
            if c.name.is_empty() {
                c.name = stem;
            } else if Config::preset(&c.name).is_some_and(|p| p != c) {
                // A preset printed with --print-config and then edited: say so, never report
                // the preset's name for other parameters.
                c.name = format!("{} (edited, {origin})", c.name);
            }
            c
        }
        None => Config::preset(preset).ok_or_else(|| ConfigError::UnknownPreset {
            name: preset.to_string(),
            known: Config::preset_names().join(", "),
        })?,
    };
    for name in mutations {
        let m = serde_json::from_value(serde_json::Value::String(name.clone())).map_err(|_| {
            ConfigError::Invalid {
                field: "--mutation".into(),
                rule: format!(
                    "`{name}` is not a known mutation; known: {}",
                    sa_model::Mutation::ALL
                        .iter()
                        .map(|m| m.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        })?;
        if !config.mutations.contains(&m) {
            config.mutations.push(m);
        }
    }
    config.validate()?;
    if !print_only {
        config.check_model_limits()?;
    }
    Ok(config)
}

/// Options of a local network shared by `sa genesis` and `sa soak`.
#[derive(clap::Args, Clone, Debug)]
pub struct NetOptions {
    /// Committee credits C.
    #[arg(long, default_value_t = 64)]
    pub committee: u32,
    /// Multiplies every protocol duration (1 = Dusk's 7-40 s timeouts and 10 s blocks).
    #[arg(long, default_value_t = 0.05)]
    pub time_scale: f64,
    /// Delay added to every message, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub delay: u64,
}

/// Parses `--shard I/N` (1-based), as `sa sweep` and `sa check` take it.
pub fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let (i, n) = s
        .split_once('/')
        .ok_or_else(|| format!("`{s}`: expected I/N, e.g. 2/4"))?;
    let i: usize = i.parse().map_err(|_| format!("`{i}` is not a number"))?;
    let n: usize = n.parse().map_err(|_| format!("`{n}` is not a number"))?;
    if n == 0 || i == 0 || i > n {
        return Err(format!("shard {i}/{n}: need 1 <= I <= N"));
    }
    Ok((i, n))
}

/// Parses `FROM..=TO` (or `FROM..TO`, also inclusive of TO: a seed range names seeds).
pub fn parse_seeds(s: &str) -> Result<(u64, u64), String> {
    let (a, b) = s
        .split_once("..=")
        .or_else(|| s.split_once(".."))
        .ok_or("expected FROM..=TO, e.g. 0..=20")?;
    let num = |x: &str, what: &str| {
        x.trim()
            .parse::<u64>()
            .map_err(|_| format!("{what} `{x}` is not a seed (an unsigned integer)"))
    };
    let (from, to) = (num(a, "FROM")?, num(b, "TO")?);
    if from > to {
        return Err(format!("FROM {from} is after TO {to}"));
    }
    if to - from >= 100_000 {
        return Err("at most 100000 seeds in one sweep".into());
    }
    Ok((from, to))
}
