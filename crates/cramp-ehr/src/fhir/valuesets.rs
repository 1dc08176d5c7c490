//! The value sets the chart is read by: the operator's FHIR ValueSet files, bound here to intake
//! meanings, over the clinical reference's verified codes.
//!
//! EHRs code one meaning with many codes (E11.9, E11.42, SNOMED CT 44054006 are all type 2
//! diabetes; 310798 is a hydrochlorothiazide tablet, not the ingredient), so single codes miss
//! most of a real chart. The published sets that cover them (VSAC) carry SNOMED CT, LOINC and
//! RxNorm content that a site licenses itself (UMLS), so no code list ships with the service: the
//! operator puts the VSAC expansions it downloaded into `fhir.value_set_dir`, and [`BINDINGS`]
//! says, per canonical URL, what a member means for the intake and which members are kept where
//! a published set mixes meanings the intake keeps apart. A file whose URL is not bound is not
//! used and is reported; a file that cannot be read stops startup, naming it.
//!
//! Without a directory only the codes `clinical-reference.md` (d) marks VERIFIED / VERIFIED-2°
//! are read (`valuesets/reference_verified.tsv`, compiled in). The loaded sets are a value
//! ([`ValueSets`]) handed to the chart reader, never a process global, so two configurations can
//! run side by side (tests do).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::chart::{ICD10CM, LOINC, RXNORM, SNOMED};
use crate::pb;

/// What a member of a value set means for the intake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Meaning {
    /// Diabetes of this type.
    Diabetes(pb::Diabetes),
    /// A yes/no field of `conditions`.
    Yes(&'static str),
    /// This smoking state.
    Smoking(pb::Smoking),
    /// This thyroid state.
    Thyroid(pb::Thyroid),
    /// Chronic kidney disease, with the stage when the code names one.
    Kidney(Option<pb::CkdStage>),
    /// A lab analyte, by its `findings.labs` field.
    Lab(&'static str),
    /// A medicine: the member's display (the RxNorm name) goes through the medication lexicon.
    Medicine,
}

/// A code's membership in one value set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The value set's title (or the clinical reference), for the provenance text.
    pub set: &'static str,
    /// What it means for the intake.
    pub meaning: Meaning,
    /// Whether a resolved or inactive condition still counts (a past clot is a prior clot).
    pub history_counts: bool,
    /// The display the value set gives (may be empty in an operator's file).
    pub display: String,
}

/// One member of a ValueSet file, as a binding's filter sees it.
#[derive(Clone, Copy, Debug)]
pub struct Concept<'a> {
    /// Code system URI.
    pub system: &'a str,
    /// The code.
    pub code: &'a str,
    /// The display, lower-cased (empty when the file has none).
    pub display: &'a str,
}

/// What one canonical value set means for the intake, and which of its members are kept.
#[derive(Clone, Copy, Debug)]
pub struct Binding {
    /// The published title.
    pub title: &'static str,
    /// The canonical URL (VSAC: `http://cts.nlm.nih.gov/fhir/ValueSet/{OID}`).
    pub url: &'static str,
    /// The versions the filter was reviewed against; another version is used and reported.
    pub reviewed: &'static [&'static str],
    /// Whether a resolved or inactive condition still counts.
    pub history_counts: bool,
    /// A kept member's meaning, or `None` for a member the filter drops.
    pub select: fn(Concept<'_>) -> Option<Meaning>,
}

macro_rules! vsac {
    ($oid:literal) => {
        concat!("http://cts.nlm.nih.gov/fhir/ValueSet/", $oid)
    };
}

fn any_of(display: &str, words: &[&str]) -> bool {
    words.iter().any(|w| display.contains(w))
}

fn is_icd(c: Concept<'_>, prefixes: &[&str]) -> bool {
    c.system == ICD10CM && prefixes.iter().any(|p| c.code.starts_with(p))
}

/// The CKD stage a display names, when it names exactly one ("stage 1 through stage 4" and
/// "stage 3" without a or b name none).
fn stage_in(display: &str) -> Option<pb::CkdStage> {
    let mut stages = Vec::new();
    let mut rest = display;
    while let Some(at) = rest.find("stage") {
        let after = rest[at + "stage".len()..].trim_start();
        let before = &rest[..at];
        let stage = if before.ends_with("end ") || before.ends_with("end-") {
            Some(pb::CkdStage::G5)
        } else if let Some(tail) = after.strip_prefix('3') {
            match tail.chars().next() {
                Some('a') => Some(pb::CkdStage::G3a),
                Some('b') => Some(pb::CkdStage::G3b),
                _ => None,
            }
        } else {
            match after.chars().next() {
                Some('1') => Some(pb::CkdStage::G1),
                Some('2') => Some(pb::CkdStage::G2),
                Some('4') => Some(pb::CkdStage::G4),
                Some('5') => Some(pb::CkdStage::G5),
                _ => None,
            }
        };
        match stage {
            Some(stage) if !stages.contains(&stage) => stages.push(stage),
            Some(_) => {}
            // A stage word without a stage this service tells apart: no stage at all.
            None => return None,
        }
        rest = &rest[at + "stage".len()..];
    }
    match stages.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// The stage of an ICD-10-CM N18 code, from the code itself.
fn n18_stage(code: &str) -> Option<pb::CkdStage> {
    match code {
        "N18.1" => Some(pb::CkdStage::G1),
        "N18.2" => Some(pb::CkdStage::G2),
        "N18.31" => Some(pb::CkdStage::G3a),
        "N18.32" => Some(pb::CkdStage::G3b),
        "N18.4" => Some(pb::CkdStage::G4),
        "N18.5" | "N18.6" => Some(pb::CkdStage::G5),
        _ => None,
    }
}

fn renal_disease(c: Concept<'_>) -> Option<Meaning> {
    if c.system == ICD10CM {
        if c.code.starts_with("N18") {
            return Some(Meaning::Kidney(n18_stage(c.code)));
        }
        if is_icd(c, &["I12", "I13"]) {
            return Some(Meaning::Kidney(stage_in(c.display)));
        }
        return None;
    }
    let chronic = any_of(
        c.display,
        &[
            "chronic kidney disease",
            "chronic renal",
            "end stage renal",
            "end-stage renal",
        ],
    );
    (chronic && !c.display.contains("transplant")).then(|| Meaning::Kidney(stage_in(c.display)))
}

fn ckd_stage_5(_: Concept<'_>) -> Option<Meaning> {
    Some(Meaning::Kidney(Some(pb::CkdStage::G5)))
}

fn end_stage_renal(c: Concept<'_>) -> Option<Meaning> {
    (!c.display.contains("transplant")).then_some(Meaning::Kidney(Some(pb::CkdStage::G5)))
}

fn on_dialysis(c: Concept<'_>) -> Option<Meaning> {
    c.display
        .contains("on dialysis")
        .then_some(Meaning::Yes("on_dialysis"))
}

fn cardiovascular(_: Concept<'_>) -> Option<Meaning> {
    Some(Meaning::Yes("coronary_or_cerebrovascular_disease"))
}

fn mody(display: &str) -> bool {
    any_of(display, &["maturity onset", "maturity-onset", "mody"])
}

fn diabetes_type_1(c: Concept<'_>) -> Option<Meaning> {
    (!mody(c.display)).then_some(Meaning::Diabetes(pb::Diabetes::Type1))
}

fn diabetes_type_2(c: Concept<'_>) -> Option<Meaning> {
    let type_2 = if c.system == ICD10CM {
        is_icd(c, &["E11", "O24.1"])
    } else {
        any_of(c.display, &["type 2", "type ii"]) && !mody(c.display)
    };
    type_2.then_some(Meaning::Diabetes(pb::Diabetes::Type2))
}

fn high_cholesterol(_: Concept<'_>) -> Option<Meaning> {
    Some(Meaning::Yes("high_cholesterol"))
}

fn hypertension(c: Concept<'_>) -> Option<Meaning> {
    const NOT_SYSTEMIC: &[&str] = &[
        "pulmonary",
        "ocular",
        "venous",
        "portal",
        "intracranial",
        "pregnan",
        "eclampsia",
        "gestational",
        "puerper",
        "childbirth",
        "transient",
        "rebound",
        "exertional",
        "paroxysmal",
    ];
    let dropped = is_icd(c, &["O", "I27"]) || any_of(c.display, NOT_SYSTEMIC);
    (!dropped).then_some(Meaning::Yes("hypertension"))
}

fn hyperthyroidism(c: Concept<'_>) -> Option<Meaning> {
    (!any_of(c.display, &["therapy", "procedure"])).then_some(Meaning::Thyroid(pb::Thyroid::Hyper))
}

fn atrial_fibrillation(c: Concept<'_>) -> Option<Meaning> {
    c.display
        .contains("fibrillation")
        .then_some(Meaning::Yes("atrial_fibrillation"))
}

fn liver_disease(_: Concept<'_>) -> Option<Meaning> {
    Some(Meaning::Yes("liver_disease"))
}

fn peripheral_artery_disease(c: Concept<'_>) -> Option<Meaning> {
    let kept = if c.system == ICD10CM {
        is_icd(c, &["I70.2", "I70.3", "I70.4", "I70.5", "I70.6", "I70.7"]) || c.code == "I73.9"
    } else {
        any_of(
            c.display,
            &[
                "peripheral",
                "limb",
                "leg",
                "iliac",
                "femoral",
                "popliteal",
                "tibial",
                "claudication",
            ],
        ) && !any_of(
            c.display,
            &[
                "coronary",
                "cerebr",
                "carotid",
                "renal",
                "vertebr",
                "mesenteric",
                "upper limb",
                "upper extremity",
                "arm",
            ],
        )
    };
    kept.then_some(Meaning::Yes("known_peripheral_artery_disease"))
}

fn venous_thromboembolism(c: Concept<'_>) -> Option<Meaning> {
    let kept = if c.system == ICD10CM {
        is_icd(c, &["I26", "I80.1", "I80.2", "I82.22", "I82.4", "I82.5"])
    } else {
        any_of(
            c.display,
            &[
                "deep vein",
                "deep venous",
                "pulmonary embol",
                "pulmonary thromboembol",
                "vena cava",
                "iliac vein",
                "femoral vein",
                "popliteal vein",
            ],
        ) && !any_of(c.display, &["superficial", "pulmonary vein"])
    };
    kept.then_some(Meaning::Yes("prior_dvt_or_pe"))
}

fn lab(field: &'static str) -> impl Fn(Concept<'_>) -> Option<Meaning> {
    move |c| (c.system == LOINC).then_some(Meaning::Lab(field))
}

fn potassium(c: Concept<'_>) -> Option<Meaning> {
    lab("potassium_mmol_l")(c).filter(|_| !c.display.contains("mass/volume"))
}

fn sodium(c: Concept<'_>) -> Option<Meaning> {
    lab("sodium_mmol_l")(c)
}

fn egfr(c: Concept<'_>) -> Option<Meaning> {
    lab("egfr_ml_min_1_73m2")(c).filter(|_| !c.display.contains("among blacks"))
}

fn hba1c(c: Concept<'_>) -> Option<Meaning> {
    lab("hba1c_percent")(c)
}

fn rxnorm(c: Concept<'_>) -> Option<Meaning> {
    (c.system == RXNORM).then_some(Meaning::Medicine)
}

/// Diuretic ingredients, by their RxNorm names (the medication lexicon decides the class).
const DIURETICS: &[&str] = &[
    "hydrochlorothiazide",
    "chlorthalidone",
    "chlorothiazide",
    "indapamide",
    "metolazone",
    "methyclothiazide",
    "furosemide",
    "bumetanide",
    "torsemide",
    "ethacrynic",
    "spironolactone",
    "eplerenone",
    "amiloride",
    "triamterene",
];

fn with_diuretic(c: Concept<'_>) -> Option<Meaning> {
    rxnorm(c).filter(|_| any_of(c.display, DIURETICS))
}

fn macrolide(c: Concept<'_>) -> Option<Meaning> {
    rxnorm(c).filter(|_| any_of(c.display, &["clarithromycin", "erythromycin"]))
}

fn conjugated_estrogens(c: Concept<'_>) -> Option<Meaning> {
    rxnorm(c).filter(|_| c.display.contains("conjugated"))
}

fn tobacco_smoker(c: Concept<'_>) -> Option<Meaning> {
    let smoking = c.display.contains("smok")
        && !any_of(
            c.display,
            &[
                "electronic",
                "e-cig",
                "vap",
                "smokeless",
                "never",
                "ex-",
                "former",
            ],
        );
    smoking.then_some(Meaning::Smoking(pb::Smoking::Current))
}

fn cigarette_dependence(c: Concept<'_>) -> Option<Meaning> {
    if !is_icd(c, &["F17.21"]) {
        return None;
    }
    Some(Meaning::Smoking(if c.display.contains("in remission") {
        pb::Smoking::Former
    } else {
        pb::Smoking::Current
    }))
}

const fn bind(
    title: &'static str,
    url: &'static str,
    reviewed: &'static [&'static str],
    select: fn(Concept<'_>) -> Option<Meaning>,
) -> Binding {
    Binding {
        title,
        url,
        reviewed,
        history_counts: false,
        select,
    }
}

const fn history(binding: Binding) -> Binding {
    Binding {
        history_counts: true,
        ..binding
    }
}

/// Every value set the service binds; `valuesets/README.md` is the operator's copy of this list.
/// A URL may appear twice when one published set feeds two meanings.
pub const BINDINGS: &[Binding] = &[
    bind(
        "Diabetes",
        vsac!("2.16.840.1.113883.3.464.1003.103.12.1001"),
        &["20220924"],
        diabetes_type_2,
    ),
    bind(
        "Type 1 Diabetes",
        vsac!("2.16.840.1.113883.3.464.1003.103.12.1020"),
        &["20240112"],
        diabetes_type_1,
    ),
    bind(
        "Diagnosis of Hypertension",
        vsac!("2.16.840.1.113883.3.600.263"),
        &["20240206"],
        hypertension,
    ),
    bind(
        "Familial Hypercholesterolemia",
        vsac!("2.16.840.1.113762.1.4.1047.100"),
        &["20210220"],
        high_cholesterol,
    ),
    bind(
        "Tobacco User",
        vsac!("2.16.840.1.113883.3.526.3.1170"),
        &["20170504"],
        tobacco_smoker,
    ),
    history(bind(
        "Substance Abuse",
        vsac!("2.16.840.1.113762.1.4.1029.320"),
        &["20220127"],
        cigarette_dependence,
    )),
    history(bind(
        "Ischemic Heart Disease or Related Diagnoses",
        vsac!("2.16.840.1.113762.1.4.1047.46"),
        &["20240208"],
        cardiovascular,
    )),
    history(bind(
        "Cerebrovascular Disease Stroke or TIA",
        vsac!("2.16.840.1.113762.1.4.1047.44"),
        &["20240208"],
        cardiovascular,
    )),
    history(bind(
        "Atherosclerosis and Peripheral Arterial Disease",
        vsac!("2.16.840.1.113762.1.4.1047.21"),
        &["20240208"],
        peripheral_artery_disease,
    )),
    bind(
        "Renal Disease",
        vsac!("2.16.840.1.113762.1.4.1029.335"),
        &["20220127"],
        renal_disease,
    ),
    bind(
        "Chronic Kidney Disease, Stage 5",
        vsac!("2.16.840.1.113883.3.526.3.1002"),
        &["20200307"],
        ckd_stage_5,
    ),
    bind(
        "End Stage Renal Disease",
        vsac!("2.16.840.1.113883.3.526.3.353"),
        &["20200307"],
        end_stage_renal,
    ),
    bind(
        "End Stage Renal Disease",
        vsac!("2.16.840.1.113883.3.526.3.353"),
        &["20200307"],
        on_dialysis,
    ),
    bind(
        "Hyperthyroidism",
        vsac!("2.16.840.1.113883.3.464.1003.117.12.1015"),
        &["20240112"],
        hyperthyroidism,
    ),
    history(bind(
        "Venous Thromboembolism",
        vsac!("2.16.840.1.113883.3.117.1.7.1.279"),
        &["20210220"],
        venous_thromboembolism,
    )),
    bind(
        "Atrial Fibrillation or Flutter",
        vsac!("2.16.840.1.113883.3.117.1.7.1.202"),
        &["20240209"],
        atrial_fibrillation,
    ),
    bind(
        "Chronic Liver Disease",
        vsac!("2.16.840.1.113883.3.464.1003.199.12.1035"),
        &["20240105"],
        liver_disease,
    ),
    bind(
        "Potassium Lab Test",
        vsac!("2.16.840.1.113762.1.4.1045.117"),
        &["20230214"],
        potassium,
    ),
    bind(
        "Sodium Lab Test",
        vsac!("2.16.840.1.113762.1.4.1045.119"),
        &["20220218"],
        sodium,
    ),
    bind(
        "Estimated Glomerular Filtration Rate",
        vsac!("2.16.840.1.113883.3.6929.3.1000"),
        &["20190531"],
        egfr,
    ),
    bind(
        "HbA1c Laboratory Test",
        vsac!("2.16.840.1.113883.3.464.1003.198.12.1013"),
        &["20170504"],
        hba1c,
    ),
    bind(
        "Diuretics",
        vsac!("2.16.840.1.113762.1.4.1248.170"),
        &["20240118"],
        rxnorm,
    ),
    bind(
        "Pharmacologic Therapy for Hypertension",
        vsac!("2.16.840.1.113883.3.526.1577"),
        &["20210220"],
        with_diuretic,
    ),
    bind(
        "Statin Allergen",
        vsac!("2.16.840.1.113762.1.4.1110.42"),
        &["20210220"],
        rxnorm,
    ),
    bind(
        "High Intensity Statin Therapy",
        vsac!("2.16.840.1.113883.3.526.3.1572"),
        &["20210220"],
        rxnorm,
    ),
    bind(
        "Moderate Intensity Statin Therapy",
        vsac!("2.16.840.1.113883.3.526.3.1575"),
        &["20210220"],
        rxnorm,
    ),
    bind(
        "Low Intensity Statin Therapy",
        vsac!("2.16.840.1.113883.3.526.3.1574"),
        &["20210220"],
        rxnorm,
    ),
    bind(
        "Antibiotic Medications for Upper Respiratory Infection",
        vsac!("2.16.840.1.113883.3.464.1003.1190"),
        &["20240210"],
        macrolide,
    ),
    bind(
        "Potentially Harmful Estrogens for Older Adults",
        vsac!("2.16.840.1.113883.3.464.1003.1058"),
        &["20240123"],
        conjugated_estrogens,
    ),
];

/// Why the configured value sets cannot be used; startup stops with it.
#[derive(Debug, thiserror::Error)]
pub enum ValueSetError {
    /// The directory cannot be listed.
    #[error("cannot read the value set directory `{dir}` (key `fhir.value_set_dir`)")]
    Dir {
        /// The configured directory.
        dir: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// A file cannot be read.
    #[error("cannot read value set file `{file}`")]
    Read {
        /// The file.
        file: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// A file is not JSON.
    #[error("value set file `{file}` is not JSON")]
    Json {
        /// The file.
        file: PathBuf,
        /// Where the JSON breaks.
        #[source]
        source: serde_json::Error,
    },
    /// A file is JSON but not a ValueSet this service can read.
    #[error("value set file `{file}`: {problem}")]
    Malformed {
        /// The file.
        file: PathBuf,
        /// What is wrong, by FHIR path.
        problem: String,
    },
    /// Two files hold the same canonical URL.
    #[error("value set files `{first}` and `{second}` both hold `{url}`")]
    Duplicate {
        /// The canonical URL.
        url: String,
        /// The file read first.
        first: PathBuf,
        /// The file read second.
        second: PathBuf,
    },
}

/// A bound value set found in the directory (for the startup log: URL and counts only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsedSet {
    /// Canonical URL.
    pub url: String,
    /// The file's `version` (empty when it has none).
    pub version: String,
    /// Whether that version is one the binding was reviewed against.
    pub reviewed: bool,
    /// Members in the file.
    pub concepts: usize,
    /// Members kept by the binding's filter (summed over the URL's bindings).
    pub kept: usize,
}

/// A ValueSet in the directory whose URL no binding names: not used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnboundSet {
    /// The file it came from.
    pub file: PathBuf,
    /// Its canonical URL (empty when it has none).
    pub url: String,
    /// Members in it.
    pub concepts: usize,
}

/// What loading found, for the startup log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// The bound sets read.
    pub used: Vec<UsedSet>,
    /// The sets not bound, so not used.
    pub unbound: Vec<UnboundSet>,
    /// Bound URLs no file supplied (their codes are listed as not used when a chart has them).
    pub missing: Vec<&'static str>,
}

/// System URI → code → memberships.
type Index = HashMap<String, HashMap<String, Vec<Member>>>;

/// The loaded value sets, built once at startup and shared read-only.
#[derive(Clone, Debug, Default)]
pub struct ValueSets {
    index: Index,
}

/// The embedded default: the reference's verified codes.
const REFERENCE: &str = include_str!("../../valuesets/reference_verified.tsv");
const REFERENCE_TITLE: &str = "clinical-reference.md (d), verified codes";

/// The meaning of a `reference_verified` row, from its value column.
fn reference_meaning(value: &str) -> Option<(Meaning, bool)> {
    Some(match value {
        "diabetes_type_2" => (Meaning::Diabetes(pb::Diabetes::Type2), false),
        "thyroid_hypo" => (Meaning::Thyroid(pb::Thyroid::Hypo), false),
        "spinal_stenosis_or_disc_disease" => {
            (Meaning::Yes("spinal_stenosis_or_disc_disease"), false)
        }
        "known_peripheral_artery_disease" => {
            (Meaning::Yes("known_peripheral_artery_disease"), true)
        }
        "prior_dvt_or_pe" => (Meaning::Yes("prior_dvt_or_pe"), true),
        "chronic_kidney_disease" => (Meaning::Kidney(None), false),
        "ckd_g1" => (Meaning::Kidney(Some(pb::CkdStage::G1)), false),
        "ckd_g2" => (Meaning::Kidney(Some(pb::CkdStage::G2)), false),
        "ckd_g4" => (Meaning::Kidney(Some(pb::CkdStage::G4)), false),
        "ckd_g5" => (Meaning::Kidney(Some(pb::CkdStage::G5)), false),
        _ => return None,
    })
}

/// One row of the reference file, or why it does not parse.
fn reference_row(line: &str) -> Result<(&'static str, &str, Member), String> {
    let cells: Vec<&str> = line.split('\t').collect();
    let [system, code, value, display] = cells.as_slice() else {
        return Err(format!("not four tab-separated cells: {line}"));
    };
    let system = match *system {
        "sct" => SNOMED,
        "icd10cm" => ICD10CM,
        other => return Err(format!("system {other}")),
    };
    let (meaning, history_counts) =
        reference_meaning(value).ok_or_else(|| format!("meaning {value}"))?;
    if code.is_empty() || display.is_empty() {
        return Err(format!("empty code or display: {line}"));
    }
    Ok((
        system,
        code,
        Member {
            set: REFERENCE_TITLE,
            meaning,
            history_counts,
            display: (*display).to_owned(),
        },
    ))
}

fn reference_lines() -> impl Iterator<Item = &'static str> {
    REFERENCE
        .lines()
        .skip_while(|l| *l != "system\tcode\tvalue\tdisplay")
        .skip(1)
        .filter(|l| !l.trim().is_empty())
}

/// Members of one ValueSet resource: `expansion.contains` (nested too), else the enumerated
/// `compose.include[].concept`.
fn members(resource: &Value) -> Result<Vec<(String, String, String)>, String> {
    fn walk(
        contains: &[Value],
        path: &str,
        out: &mut Vec<(String, String, String)>,
    ) -> Result<(), String> {
        for (i, item) in contains.iter().enumerate() {
            let here = format!("{path}[{i}]");
            let text = |key: &str| item.get(key).and_then(Value::as_str).map(str::to_owned);
            match (text("system"), text("code")) {
                (Some(system), Some(code)) if !code.is_empty() => {
                    out.push((system, code, text("display").unwrap_or_default()));
                }
                // An abstract grouping entry carries no code; only its children count.
                (None, None) if item.get("contains").is_some() => {}
                _ => return Err(format!("{here} needs a system and a code")),
            }
            if let Some(children) = item.get("contains") {
                let children = children
                    .as_array()
                    .ok_or_else(|| format!("{here}.contains is not an array"))?;
                walk(children, &format!("{here}.contains"), out)?;
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    if let Some(contains) = resource.pointer("/expansion/contains") {
        let contains = contains
            .as_array()
            .ok_or("expansion.contains is not an array")?;
        walk(contains, "expansion.contains", &mut out)?;
        return Ok(out);
    }
    let Some(includes) = resource.pointer("/compose/include") else {
        return Err("has neither expansion.contains nor compose.include".to_owned());
    };
    if resource.pointer("/compose/exclude").is_some() {
        return Err("compose.exclude needs an expansion: supply the expanded ValueSet".to_owned());
    }
    let includes = includes
        .as_array()
        .ok_or("compose.include is not an array")?;
    for (i, include) in includes.iter().enumerate() {
        let system = include.get("system").and_then(Value::as_str);
        let concepts = include.get("concept").and_then(Value::as_array);
        let (Some(system), Some(concepts)) = (system, concepts) else {
            return Err(format!(
                "compose.include[{i}] does not enumerate concepts (system and concept[]); supply the expanded ValueSet"
            ));
        };
        for (j, concept) in concepts.iter().enumerate() {
            let code = concept.get("code").and_then(Value::as_str);
            let Some(code) = code.filter(|c| !c.is_empty()) else {
                return Err(format!("compose.include[{i}].concept[{j}] has no code"));
            };
            let display = concept.get("display").and_then(Value::as_str);
            out.push((
                system.to_owned(),
                code.to_owned(),
                display.unwrap_or_default().to_owned(),
            ));
        }
    }
    Ok(out)
}

/// The ValueSet resources of one file: the resource itself, or a Bundle's ValueSet entries.
fn value_sets_in(file: &Path, json: Value) -> Result<Vec<Value>, ValueSetError> {
    let malformed = |problem: &str| ValueSetError::Malformed {
        file: file.to_owned(),
        problem: problem.to_owned(),
    };
    match json.get("resourceType").and_then(Value::as_str) {
        Some("ValueSet") => Ok(vec![json]),
        Some("Bundle") => Ok(json
            .get("entry")
            .and_then(Value::as_array)
            .ok_or_else(|| malformed("a Bundle without entry[]"))?
            .iter()
            .filter_map(|e| e.get("resource"))
            .filter(|r| r.get("resourceType").and_then(Value::as_str) == Some("ValueSet"))
            .cloned()
            .collect()),
        _ => Err(malformed(
            "resourceType is not ValueSet (or a Bundle of ValueSets)",
        )),
    }
}

impl ValueSets {
    /// The embedded default: only the codes the clinical reference marks verified.
    #[must_use]
    pub fn reference() -> Self {
        let mut sets = Self::default();
        // Every row parses (`the_reference_file_parses`); a row that did not would be skipped.
        for (system, code, member) in reference_lines().filter_map(|l| reference_row(l).ok()) {
            sets.insert(system, code, member);
        }
        sets
    }

    fn insert(&mut self, system: &str, code: &str, member: Member) {
        let list = self
            .index
            .entry(system.to_owned())
            .or_default()
            .entry(code.to_owned())
            .or_default();
        // One meaning once: a code in the reference and in a file (or in two files) counts once.
        if !list
            .iter()
            .any(|m| m.meaning == member.meaning && m.history_counts == member.history_counts)
        {
            list.push(member);
        }
    }

    /// The reference's codes plus the bound sets in `dir` (every `*.json` file: a ValueSet or
    /// a Bundle of them); `None` gives [`ValueSets::reference`].
    ///
    /// # Errors
    /// A [`ValueSetError`] naming the directory or the file that cannot be read or is not a
    /// readable ValueSet, or two files holding one URL.
    pub fn load(dir: Option<&Path>) -> Result<(Self, LoadReport), ValueSetError> {
        let mut sets = Self::reference();
        let mut report = LoadReport::default();
        let Some(dir) = dir else {
            report.missing = bound_urls();
            return Ok((sets, report));
        };
        let dir_error = |source| ValueSetError::Dir {
            dir: dir.to_owned(),
            source,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(dir_error)? {
            let path = entry.map_err(dir_error)?.path();
            if path.extension().is_some_and(|e| e == "json") && path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
        for file in files {
            let text = std::fs::read_to_string(&file).map_err(|source| ValueSetError::Read {
                file: file.clone(),
                source,
            })?;
            let json: Value =
                serde_json::from_str(&text).map_err(|source| ValueSetError::Json {
                    file: file.clone(),
                    source,
                })?;
            for resource in value_sets_in(&file, json)? {
                let malformed = |problem: String| ValueSetError::Malformed {
                    file: file.clone(),
                    problem,
                };
                let url = resource
                    .get("url")
                    .and_then(Value::as_str)
                    .filter(|u| !u.is_empty())
                    .ok_or_else(|| malformed("ValueSet.url is missing".to_owned()))?
                    .to_owned();
                let concepts = members(&resource).map_err(malformed)?;
                if let Some(first) = seen.insert(url.clone(), file.clone()) {
                    return Err(ValueSetError::Duplicate {
                        url,
                        first,
                        second: file,
                    });
                }
                let bindings: Vec<&Binding> = BINDINGS.iter().filter(|b| b.url == url).collect();
                if bindings.is_empty() {
                    report.unbound.push(UnboundSet {
                        file: file.clone(),
                        url,
                        concepts: concepts.len(),
                    });
                    continue;
                }
                let version = resource
                    .get("version")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let mut kept = 0;
                for (system, code, display) in &concepts {
                    let lower = display.to_lowercase();
                    let concept = Concept {
                        system,
                        code,
                        display: &lower,
                    };
                    for binding in &bindings {
                        if let Some(meaning) = (binding.select)(concept) {
                            kept += 1;
                            sets.insert(
                                system,
                                code,
                                Member {
                                    set: binding.title,
                                    meaning,
                                    history_counts: binding.history_counts,
                                    display: display.clone(),
                                },
                            );
                        }
                    }
                }
                report.used.push(UsedSet {
                    reviewed: bindings
                        .iter()
                        .any(|b| b.reviewed.contains(&version.as_str())),
                    url,
                    version,
                    concepts: concepts.len(),
                    kept,
                });
            }
        }
        report.missing = bound_urls()
            .into_iter()
            .filter(|u| !seen.contains_key(*u))
            .collect();
        Ok((sets, report))
    }

    /// Every value-set membership of a code (empty when it is in none).
    #[must_use]
    pub fn lookup(&self, system: &str, code: &str) -> &[Member] {
        self.index
            .get(system)
            .and_then(|codes| codes.get(code))
            .map_or(&[], Vec::as_slice)
    }

    /// The `findings.labs` field a LOINC code is in a value set for.
    #[must_use]
    pub fn lab_field(&self, loinc: &str) -> Option<&'static str> {
        self.lookup(LOINC, loinc)
            .iter()
            .find_map(|m| match m.meaning {
                Meaning::Lab(field) => Some(field),
                Meaning::Diabetes(_)
                | Meaning::Yes(_)
                | Meaning::Smoking(_)
                | Meaning::Thyroid(_)
                | Meaning::Kidney(_)
                | Meaning::Medicine => None,
            })
    }

    /// The RxNorm name a medicine value set gives a product or ingredient code.
    #[must_use]
    pub fn medicine_name(&self, rxnorm: &str) -> Option<&str> {
        self.lookup(RXNORM, rxnorm)
            .iter()
            .find(|m| m.meaning == Meaning::Medicine && !m.display.trim().is_empty())
            .map(|m| m.display.as_str())
    }
}

/// Every bound URL, once each.
fn bound_urls() -> Vec<&'static str> {
    let mut urls: Vec<&'static str> = BINDINGS.iter().map(|b| b.url).collect();
    urls.dedup();
    urls
}

#[cfg(test)]
mod tests {
    use super::*;

    const VSAC: &str = "http://cts.nlm.nih.gov/fhir/ValueSet/";

    fn concept<'a>(system: &'a str, code: &'a str, display: &'a str) -> Concept<'a> {
        Concept {
            system,
            code,
            display,
        }
    }

    #[test]
    fn the_reference_file_parses_and_holds_no_unverified_code() {
        use cramp_core::kb::codes::UNVERIFIED;
        let rows: Vec<_> = reference_lines().map(reference_row).collect();
        let errors: Vec<&String> = rows.iter().filter_map(|r| r.as_ref().err()).collect();
        assert!(errors.is_empty(), "{errors:#?}");
        assert!(rows.len() >= 20);
        for (_, code, _) in rows.into_iter().flatten() {
            assert!(!UNVERIFIED.contains(&code), "{code}");
        }
    }

    #[test]
    fn every_binding_is_a_vsac_url_with_a_reviewed_version_and_documented() {
        let readme = include_str!("../../valuesets/README.md");
        for binding in BINDINGS {
            assert!(binding.url.starts_with(VSAC), "{}", binding.url);
            assert!(!binding.reviewed.is_empty(), "{}", binding.url);
            let oid = &binding.url[VSAC.len()..];
            assert!(readme.contains(oid), "README lacks {oid}");
            assert!(
                readme.contains(binding.title),
                "README lacks {}",
                binding.title
            );
            for version in binding.reviewed {
                assert!(readme.contains(version), "README lacks {version}");
            }
        }
        // The same URL twice only as adjacent rows (one set, two meanings).
        let urls = bound_urls();
        let mut unique = urls.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(urls.len(), unique.len());
    }

    #[test]
    fn filters_keep_apart_what_the_intake_keeps_apart() {
        let lower = |s: &str| s.to_lowercase();
        // Type 2 out of the mixed "Diabetes" set; type 1 and MODY are not type 2.
        let t2 = |sys, code, display: &str| diabetes_type_2(concept(sys, code, &lower(display)));
        assert!(t2(ICD10CM, "E11.9", "").is_some());
        assert!(t2(ICD10CM, "E10.9", "").is_none());
        assert!(t2(SNOMED, "1", "Diabetes mellitus type 2 (disorder)").is_some());
        assert!(t2(SNOMED, "2", "Diabetes mellitus type 1 (disorder)").is_none());
        assert!(diabetes_type_1(concept(SNOMED, "3", "mody type 1")).is_none());
        // Flutter is not fibrillation.
        assert!(
            atrial_fibrillation(concept(ICD10CM, "I48.92", "unspecified atrial flutter")).is_none()
        );
        assert!(
            atrial_fibrillation(concept(
                ICD10CM,
                "I48.91",
                "unspecified atrial fibrillation"
            ))
            .is_some()
        );
        // Pulmonary hypertension and pregnancy are not the blood-pressure risk factor.
        assert!(
            hypertension(concept(ICD10CM, "I10", "essential (primary) hypertension")).is_some()
        );
        assert!(
            hypertension(concept(ICD10CM, "I27.0", "primary pulmonary hypertension")).is_none()
        );
        assert!(hypertension(concept(ICD10CM, "O10.02", "")).is_none());
        // CKD stage from the code or the display; a range names no stage.
        assert_eq!(
            renal_disease(concept(ICD10CM, "N18.31", "")),
            Some(Meaning::Kidney(Some(pb::CkdStage::G3a)))
        );
        assert_eq!(
            renal_disease(concept(ICD10CM, "N18.30", "")),
            Some(Meaning::Kidney(None))
        );
        assert_eq!(
            renal_disease(concept(
                ICD10CM,
                "I12.0",
                "hypertensive chronic kidney disease with stage 5 chronic kidney disease or end stage renal disease"
            )),
            Some(Meaning::Kidney(Some(pb::CkdStage::G5)))
        );
        assert_eq!(
            renal_disease(concept(
                ICD10CM,
                "I12.9",
                "hypertensive chronic kidney disease with stage 1 through stage 4 chronic kidney disease, or unspecified chronic kidney disease"
            )),
            Some(Meaning::Kidney(None))
        );
        assert_eq!(
            renal_disease(concept(
                SNOMED,
                "4",
                "chronic kidney disease stage 3b (disorder)"
            )),
            Some(Meaning::Kidney(Some(pb::CkdStage::G3b)))
        );
        assert!(renal_disease(concept(ICD10CM, "N04.9", "nephrotic syndrome")).is_none());
        assert!(
            end_stage_renal(concept(
                SNOMED,
                "5",
                "end stage renal failure with renal transplant"
            ))
            .is_none()
        );
        assert!(on_dialysis(concept(SNOMED, "6", "end stage renal failure on dialysis")).is_some());
        // Smoking: cigarettes yes, e-cigarettes no; dependence in remission is former.
        assert!(tobacco_smoker(concept(SNOMED, "77176002", "smoker")).is_some());
        assert!(tobacco_smoker(concept(SNOMED, "7", "electronic cigarette user")).is_none());
        assert_eq!(
            cigarette_dependence(concept(
                ICD10CM,
                "F17.211",
                "nicotine dependence, cigarettes, in remission"
            )),
            Some(Meaning::Smoking(pb::Smoking::Former))
        );
        assert_eq!(
            cigarette_dependence(concept(
                ICD10CM,
                "F17.210",
                "nicotine dependence, cigarettes, uncomplicated"
            )),
            Some(Meaning::Smoking(pb::Smoking::Current))
        );
        assert!(cigarette_dependence(concept(ICD10CM, "F10.20", "alcohol dependence")).is_none());
        // Medicines: only RxNorm rows, only the diuretic combinations of the hypertension set.
        assert!(
            with_diuretic(concept(
                RXNORM,
                "8",
                "hydrochlorothiazide 12.5 mg / lisinopril 10 mg oral tablet"
            ))
            .is_some()
        );
        assert!(with_diuretic(concept(RXNORM, "9", "lisinopril 10 mg oral tablet")).is_none());
        assert!(rxnorm(concept(SNOMED, "10", "simvastatin")).is_none());
    }

    #[test]
    fn stage_words_name_one_stage_or_none() {
        assert_eq!(stage_in("ckd stage 4"), Some(pb::CkdStage::G4));
        assert_eq!(stage_in("chronic kidney disease stage 3"), None);
        assert_eq!(stage_in("end-stage renal disease"), Some(pb::CkdStage::G5));
        assert_eq!(stage_in("chronic kidney disease"), None);
    }

    #[test]
    fn the_embedded_default_reads_only_the_reference() {
        let sets = ValueSets::reference();
        assert_eq!(
            sets.lookup(ICD10CM, "E11.42")
                .iter()
                .map(|m| m.meaning)
                .collect::<Vec<_>>(),
            [Meaning::Diabetes(pb::Diabetes::Type2)]
        );
        for (system, code) in [
            (ICD10CM, "E11.9"),
            (ICD10CM, "N18.31"),
            (ICD10CM, "I10"),
            (SNOMED, "77176002"),
        ] {
            assert!(sets.lookup(system, code).is_empty(), "{code}");
        }
        assert_eq!(sets.medicine_name("310798"), None);
    }

    #[test]
    fn a_missing_directory_is_an_error_naming_it() {
        let err = ValueSets::load(Some(Path::new("/nonexistent/cramp-value-sets"))).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/cramp-value-sets"),
            "{err}"
        );
    }

    fn fixtures(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/data")
            .join(name)
    }

    #[test]
    fn the_fixture_directory_loads_and_reports_unbound_unreviewed_and_missing_sets() {
        let (sets, report) = ValueSets::load(Some(&fixtures("valuesets"))).unwrap();
        let meanings = |system, code| -> Vec<Meaning> {
            sets.lookup(system, code)
                .iter()
                .map(|m| m.meaning)
                .collect()
        };
        assert_eq!(
            meanings(ICD10CM, "E11.9"),
            [Meaning::Diabetes(pb::Diabetes::Type2)]
        );
        assert_eq!(
            meanings(SNOMED, "44054006"),
            [Meaning::Diabetes(pb::Diabetes::Type2)]
        );
        assert_eq!(
            meanings(ICD10CM, "N18.31"),
            [Meaning::Kidney(Some(pb::CkdStage::G3a))]
        );
        assert_eq!(meanings(SNOMED, "38341003"), [Meaning::Yes("hypertension")]);
        assert_eq!(
            meanings(ICD10CM, "F17.210"),
            [Meaning::Smoking(pb::Smoking::Current)]
        );
        assert!(
            meanings(ICD10CM, "E78.5").is_empty(),
            "only in an unbound set"
        );
        assert_eq!(
            sets.medicine_name("310798"),
            Some("hydrochlorothiazide 25 mg tablet")
        );
        assert_eq!(sets.lab_field("6298-4"), Some("potassium_mmol_l"));
        assert_eq!(
            meanings(ICD10CM, "E11.42"),
            [Meaning::Diabetes(pb::Diabetes::Type2)],
            "in the reference and the file: one meaning"
        );
        assert_eq!(report.unbound.len(), 1);
        assert_eq!(
            report.unbound[0].url,
            "http://example.org/fhir/ValueSet/site-hyperlipidaemia"
        );
        let potassium = report
            .used
            .iter()
            .find(|u| u.url.ends_with("1045.117"))
            .unwrap();
        assert!(!potassium.reviewed, "20250101 is not the reviewed version");
        assert!(report.used.iter().filter(|u| u.reviewed).count() == 6);
        assert_eq!(report.used.len(), 7);
        assert_eq!(report.missing.len(), bound_urls().len() - 7);
    }

    #[test]
    fn a_bad_file_is_an_error_naming_it() {
        let err = ValueSets::load(Some(&fixtures("valuesets-malformed"))).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("hypertension.json"), "{text}");
        assert!(
            text.contains("expansion.contains[0] needs a system and a code"),
            "{text}"
        );
        let dir = std::env::temp_dir().join(format!("cramp-vs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, body, expected) in [
            ("a.json", "{not json", "is not JSON"),
            (
                "b.json",
                r#"{"resourceType": "Patient"}"#,
                "resourceType is not ValueSet",
            ),
            (
                "c.json",
                r#"{"resourceType": "ValueSet", "expansion": {"contains": []}}"#,
                "ValueSet.url is missing",
            ),
            (
                "d.json",
                r#"{"resourceType": "ValueSet", "url": "http://example.org/vs", "compose": {"include": [{"system": "http://loinc.org", "filter": [{}]}]}}"#,
                "does not enumerate concepts",
            ),
        ] {
            let file = dir.join(name);
            std::fs::write(&file, body).unwrap();
            let err = ValueSets::load(Some(&dir)).unwrap_err();
            assert!(
                matches!(
                    err,
                    ValueSetError::Json { .. } | ValueSetError::Malformed { .. }
                ),
                "{err:?}"
            );
            let text = format!(
                "{err} {}",
                std::error::Error::source(&err)
                    .map(ToString::to_string)
                    .unwrap_or_default()
            );
            assert!(text.contains(name) && text.contains(expected), "{text}");
            std::fs::remove_file(&file).unwrap();
        }
        let vs = r#"{"resourceType": "ValueSet", "url": "http://example.org/vs", "expansion": {"contains": []}}"#;
        std::fs::write(dir.join("e.json"), vs).unwrap();
        std::fs::write(dir.join("f.json"), vs).unwrap();
        let err = ValueSets::load(Some(&dir)).unwrap_err();
        assert!(matches!(err, ValueSetError::Duplicate { .. }), "{err:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
