//! Medication recognition, first pass: generic names, common abbreviations, combination products
//! and WHO ATC codes.
//!
//! Names are split into letter-only words, so doses, units, frequencies and punctuation fall away
//! ("HCTZ 25 mg", "fluticasone/salmeterol 250/50"); each word (and word pair, for two-word
//! generics) is looked up. Codes win over names; an unknown code falls back to the name. Known
//! negative controls of Garrison 2012 (inhaled anticholinergics, beta blockers) have no entry, so
//! they can never be flagged. Brands, misspellings and RxNorm codes come with the full lexicon.

use crate::input::Medication;
use crate::kb::{codes, sources};
use crate::output::{
    Citation, Coding, DrugClass, EvidenceStrength, MedicationFinding, MedicationMatch,
};

/// Weeks within which a newly started drug is the stronger suspect (clinical-reference.md e.12).
pub(crate) const RECENT_WEEKS: u32 = 12;

struct Ingredient {
    name: &'static str,
    class: DrugClass,
    /// Lower-case spellings and abbreviations, one or two words each.
    aliases: &'static [&'static str],
    atc: Option<Coding>,
}

const fn ing(
    name: &'static str,
    class: DrugClass,
    aliases: &'static [&'static str],
    atc: Option<Coding>,
) -> Ingredient {
    Ingredient {
        name,
        class,
        aliases,
        atc,
    }
}

use DrugClass as C;

/// Ingredients of the drug classes in outputs.md with the source behind each class.
const LEXICON: &[Ingredient] = &[
    ing(
        "hydrochlorothiazide",
        C::ThiazideDiuretic,
        &["hydrochlorothiazide", "hctz", "hct"],
        Some(codes::ATC_HCTZ),
    ),
    ing(
        "chlorthalidone",
        C::ThiazideDiuretic,
        &["chlorthalidone", "chlortalidone"],
        Some(codes::ATC_CHLORTALIDONE),
    ),
    ing("indapamide", C::ThiazideDiuretic, &["indapamide"], None),
    ing("metolazone", C::ThiazideDiuretic, &["metolazone"], None),
    ing(
        "bendroflumethiazide",
        C::ThiazideDiuretic,
        &["bendroflumethiazide", "bendrofluazide"],
        None,
    ),
    ing(
        "chlorothiazide",
        C::ThiazideDiuretic,
        &["chlorothiazide"],
        None,
    ),
    ing(
        "furosemide",
        C::LoopDiuretic,
        &["furosemide", "frusemide"],
        Some(codes::ATC_FUROSEMIDE),
    ),
    ing(
        "bumetanide",
        C::LoopDiuretic,
        &["bumetanide"],
        Some(codes::ATC_BUMETANIDE),
    ),
    ing(
        "torsemide",
        C::LoopDiuretic,
        &["torsemide", "torasemide"],
        None,
    ),
    ing(
        "ethacrynic acid",
        C::LoopDiuretic,
        &["ethacrynic acid", "etacrynic acid"],
        None,
    ),
    ing(
        "spironolactone",
        C::PotassiumSparingDiuretic,
        &["spironolactone"],
        Some(codes::ATC_SPIRONOLACTONE),
    ),
    ing(
        "eplerenone",
        C::PotassiumSparingDiuretic,
        &["eplerenone"],
        None,
    ),
    ing(
        "amiloride",
        C::PotassiumSparingDiuretic,
        &["amiloride"],
        None,
    ),
    ing(
        "triamterene",
        C::PotassiumSparingDiuretic,
        &["triamterene"],
        None,
    ),
    ing("atorvastatin", C::Statin, &["atorvastatin"], None),
    ing(
        "simvastatin",
        C::Statin,
        &["simvastatin"],
        Some(codes::ATC_SIMVASTATIN),
    ),
    ing("rosuvastatin", C::Statin, &["rosuvastatin"], None),
    ing("pravastatin", C::Statin, &["pravastatin"], None),
    ing("lovastatin", C::Statin, &["lovastatin"], None),
    ing("fluvastatin", C::Statin, &["fluvastatin"], None),
    ing("pitavastatin", C::Statin, &["pitavastatin"], None),
    // Substance level, not the whole R03AC class, which also holds short-acting agents (b.4).
    ing(
        "salmeterol",
        C::LongActingBetaAgonist,
        &["salmeterol"],
        Some(codes::ATC_SALMETEROL),
    ),
    ing(
        "formoterol",
        C::LongActingBetaAgonist,
        &["formoterol", "eformoterol"],
        None,
    ),
    ing(
        "arformoterol",
        C::LongActingBetaAgonist,
        &["arformoterol"],
        None,
    ),
    ing(
        "vilanterol",
        C::LongActingBetaAgonist,
        &["vilanterol"],
        None,
    ),
    ing(
        "olodaterol",
        C::LongActingBetaAgonist,
        &["olodaterol"],
        None,
    ),
    ing(
        "indacaterol",
        C::LongActingBetaAgonist,
        &["indacaterol"],
        None,
    ),
    ing("omeprazole", C::ProtonPumpInhibitor, &["omeprazole"], None),
    ing(
        "esomeprazole",
        C::ProtonPumpInhibitor,
        &["esomeprazole"],
        None,
    ),
    ing(
        "lansoprazole",
        C::ProtonPumpInhibitor,
        &["lansoprazole"],
        None,
    ),
    ing(
        "dexlansoprazole",
        C::ProtonPumpInhibitor,
        &["dexlansoprazole"],
        None,
    ),
    ing(
        "pantoprazole",
        C::ProtonPumpInhibitor,
        &["pantoprazole"],
        None,
    ),
    ing(
        "rabeprazole",
        C::ProtonPumpInhibitor,
        &["rabeprazole"],
        None,
    ),
    ing("raloxifene", C::Raloxifene, &["raloxifene"], None),
    ing(
        "conjugated estrogens",
        C::Estrogen,
        &[
            "conjugated estrogens",
            "conjugated oestrogens",
            "estrogens conjugated",
        ],
        None,
    ),
    ing("teriparatide", C::Teriparatide, &["teriparatide"], None),
    ing("iron sucrose", C::IntravenousIron, &["iron sucrose"], None),
    ing("naproxen", C::Naproxen, &["naproxen"], None),
    ing("quinine", C::Quinine, &["quinine"], None),
    ing("clonazepam", C::OtherReported, &["clonazepam"], None),
    ing("citalopram", C::OtherReported, &["citalopram"], None),
    ing("celecoxib", C::OtherReported, &["celecoxib"], None),
    ing("gabapentin", C::OtherReported, &["gabapentin"], None),
    ing("zolpidem", C::OtherReported, &["zolpidem"], None),
    // Strong CYP3A4 inhibitors: reported only beside a statin (outputs.md).
    ing(
        "clarithromycin",
        C::StatinInteracting,
        &["clarithromycin"],
        None,
    ),
    ing(
        "itraconazole",
        C::StatinInteracting,
        &["itraconazole"],
        None,
    ),
    ing(
        "ketoconazole",
        C::StatinInteracting,
        &["ketoconazole"],
        None,
    ),
    ing("ritonavir", C::StatinInteracting, &["ritonavir"], None),
];

/// RxNorm ingredient (IN) concept ids, each seen stated for that ingredient in a public code
/// table: CPIC's drug table (cpicpgx/cpic-data `db/drug.sql`), the HL7 PDDI-CDS IG value sets, or
/// VSAC's "Statin Allergen" value set (OID 2.16.840.1.113762.1.4.1110.42). Ingredients whose id
/// could not be verified have no entry and are matched by name.
const RXNORM: &[(&str, &str)] = &[
    ("5487", "hydrochlorothiazide"),
    ("4603", "furosemide"),
    ("1808", "bumetanide"),
    ("38413", "torsemide"),
    ("9997", "spironolactone"),
    ("298869", "eplerenone"),
    ("83367", "atorvastatin"),
    ("36567", "simvastatin"),
    ("301542", "rosuvastatin"),
    ("42463", "pravastatin"),
    ("6472", "lovastatin"),
    ("41127", "fluvastatin"),
    ("861634", "pitavastatin"),
    ("36117", "salmeterol"),
    ("7646", "omeprazole"),
    ("283742", "esomeprazole"),
    ("17128", "lansoprazole"),
    ("40790", "pantoprazole"),
    ("114979", "rabeprazole"),
    ("816346", "dexlansoprazole"),
    ("7258", "naproxen"),
    ("9071", "quinine"),
    ("2556", "citalopram"),
    ("140587", "celecoxib"),
];

/// RxNorm code system URI.
pub(crate) const RXNORM_SYSTEM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";

fn rxnorm_coding(ingredient: &'static str) -> Option<Coding> {
    RXNORM
        .iter()
        .find(|(_, n)| *n == ingredient)
        .map(|(code, display)| Coding {
            system: RXNORM_SYSTEM,
            code,
            display,
        })
}

fn by_rxnorm(cui: &str) -> Option<&'static Ingredient> {
    let cui = cui.trim();
    RXNORM
        .iter()
        .find(|(c, _)| *c == cui)
        .and_then(|(_, n)| LEXICON.iter().find(|i| i.name == *n))
}

/// ATC class prefixes the reference verifies (b.4), mapped to the class they hold.
const ATC_CLASSES: &[(&str, DrugClass, &str)] = &[
    ("C03AA", C::ThiazideDiuretic, "thiazide (ATC C03AA)"),
    (
        "C03BA",
        C::ThiazideDiuretic,
        "thiazide-like sulfonamide (ATC C03BA)",
    ),
    ("C03CA", C::LoopDiuretic, "loop sulfonamide (ATC C03CA)"),
    (
        "C03DA",
        C::PotassiumSparingDiuretic,
        "aldosterone antagonist (ATC C03DA)",
    ),
    ("C10AA", C::Statin, "statin (ATC C10AA)"),
];

/// One medication entry recognised as a member of a class.
#[derive(Clone)]
pub(crate) struct Recognised {
    /// Position on the input list, for evidence paths.
    pub(crate) index: usize,
    pub(crate) input_name: String,
    pub(crate) ingredient: &'static str,
    pub(crate) class: DrugClass,
    pub(crate) match_kind: MedicationMatch,
    pub(crate) weeks_since_started: Option<u32>,
    atc: Option<Coding>,
}

impl Recognised {
    pub(crate) fn recent(&self) -> bool {
        self.weeks_since_started.is_some_and(|w| w <= RECENT_WEEKS)
    }
}

/// Letter-only lower-case words: doses, units, strengths and punctuation drop out.
fn words(name: &str) -> Vec<String> {
    name.split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Whether `name` contains the one-word generic `generic`.
pub(crate) fn mentions(name: &str, generic: &str) -> bool {
    words(name).iter().any(|w| w == generic)
}

fn by_name(name: &str) -> Vec<&'static Ingredient> {
    let ws = words(name);
    let mut found: Vec<&'static Ingredient> = Vec::new();
    let pairs = ws.windows(2).map(|p| p.join(" "));
    for candidate in ws.iter().cloned().chain(pairs) {
        for i in LEXICON {
            if i.aliases.contains(&candidate.as_str()) && !found.iter().any(|f| f.name == i.name) {
                found.push(i);
            }
        }
    }
    found
}

fn by_atc(code: &str) -> Option<(&'static str, DrugClass, Option<Coding>)> {
    let code: String = code
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    if let Some(i) = LEXICON
        .iter()
        .find(|i| i.atc.is_some_and(|a| a.code == code))
    {
        return Some((i.name, i.class, i.atc));
    }
    ATC_CLASSES
        .iter()
        .find(|(p, _, _)| code.starts_with(p))
        .map(|(_, class, label)| (*label, *class, None))
}

/// Recognises every culprit on the list; recently stopped drugs are not current suspects.
pub(crate) fn recognise(meds: &[Medication]) -> Vec<Recognised> {
    let mut out: Vec<Recognised> = Vec::new();
    for (index, m) in meds
        .iter()
        .enumerate()
        .filter(|(_, m)| m.recently_stopped != Some(true))
    {
        let names = by_name(&m.name);
        if let Some(i) = m.rxnorm_cui.as_deref().and_then(by_rxnorm) {
            // The RxNorm code names the ingredient; any other culprit in the name still counts.
            out.push(Recognised {
                index,
                input_name: m.name.clone(),
                ingredient: i.name,
                class: i.class,
                match_kind: MedicationMatch::Rxnorm,
                weeks_since_started: m.weeks_since_started,
                atc: i.atc,
            });
            for j in names.iter().filter(|j| j.name != i.name) {
                out.push(Recognised {
                    index,
                    input_name: m.name.clone(),
                    ingredient: j.name,
                    class: j.class,
                    match_kind: MedicationMatch::Exact,
                    weeks_since_started: m.weeks_since_started,
                    atc: j.atc,
                });
            }
            continue;
        }
        let coded = m.atc_code.as_deref().and_then(by_atc);
        let push = |out: &mut Vec<Recognised>, ingredient, class, match_kind, atc| {
            out.push(Recognised {
                index,
                input_name: m.name.clone(),
                ingredient,
                class,
                match_kind,
                weeks_since_started: m.weeks_since_started,
                atc,
            });
        };
        match coded {
            Some((label, class, atc)) => {
                // The code names the class; the name may sharpen the ingredient within it.
                let same = names.iter().find(|i| i.class == class);
                let (ingredient, atc) = same.map_or((label, atc), |i| (i.name, i.atc.or(atc)));
                push(&mut out, ingredient, class, MedicationMatch::Atc, atc);
                for i in names.iter().filter(|i| i.class != class) {
                    push(&mut out, i.name, i.class, MedicationMatch::Exact, i.atc);
                }
            }
            None => {
                for i in names {
                    push(&mut out, i.name, i.class, MedicationMatch::Exact, i.atc);
                }
            }
        }
    }
    // A CYP3A4 inhibitor matters only beside a statin.
    if !out.iter().any(|r| r.class == C::Statin) {
        out.retain(|r| r.class != C::StatinInteracting);
    }
    out
}

/// Evidence strength per class: Garrison's sequence ratios (S12) and AFP's list (S13).
pub(crate) const fn strength(class: DrugClass) -> EvidenceStrength {
    match class {
        // "Substantial" signals: LABA 2.42, potassium-sparing 2.12, thiazide 1.48.
        C::LongActingBetaAgonist | C::PotassiumSparingDiuretic | C::ThiazideDiuretic => {
            EvidenceStrength::Strong
        }
        // AFP's "most strongly associated" list, with very low overall incidence; PPIs via the
        // FDA's hypomagnesemia warning; interacting drugs via myopathy risk.
        C::Raloxifene
        | C::Estrogen
        | C::Teriparatide
        | C::IntravenousIron
        | C::Naproxen
        | C::ProtonPumpInhibitor
        | C::StatinInteracting => EvidenceStrength::Moderate,
        // Small (statins 1.16) or not significant (loop 1.20, p=0.07); isolated reports; quinine
        // is a treatment, listed for safety, not as a cause.
        C::Statin | C::LoopDiuretic | C::OtherReported | C::Quinine => EvidenceStrength::Weak,
    }
}

fn rationale(r: &Recognised) -> String {
    let why = match r.class {
        C::ThiazideDiuretic => {
            "Thiazide and thiazide-like diuretics preceded new cramp treatment more often than chance (Garrison 2012 sequence ratio 1.48) and can lower potassium and magnesium."
        }
        C::LoopDiuretic => {
            "Loop diuretics showed a weak, non-significant association with cramps (Garrison 2012 sequence ratio 1.20) and can lower potassium and magnesium."
        }
        C::PotassiumSparingDiuretic => {
            "Potassium-sparing diuretics showed one of the strongest associations with new cramp treatment (Garrison 2012 sequence ratio 2.12)."
        }
        C::Statin => {
            "Statins showed a small association with cramps (Garrison 2012 sequence ratio 1.16); muscle symptoms on a statin warrant a CK only when severe, with weakness or with dark urine."
        }
        C::LongActingBetaAgonist => {
            "Inhaled long-acting beta-agonists showed the strongest association with new cramp treatment (Garrison 2012 sequence ratio 2.42; 2.55 with an inhaled corticosteroid)."
        }
        C::ProtonPumpInhibitor => {
            "Long-term proton pump inhibitors can cause low magnesium (FDA 2011), which causes cramps, spasm and arrhythmia."
        }
        C::Raloxifene | C::Estrogen | C::Teriparatide | C::IntravenousIron | C::Naproxen => {
            "Among the drugs most strongly associated with leg cramps in the AFP review, although the overall incidence is very low."
        }
        C::OtherReported => {
            "Cramps have been reported in studies of this drug; the evidence is weak."
        }
        C::Quinine => {
            "Quinine is not recommended for cramps: it is effective but toxic (AAN Level A; FDA warning against off-label use), so its use needs a safety review."
        }
        C::StatinInteracting => {
            "A strong CYP3A4 inhibitor taken with a statin raises the statin level and the risk of myopathy and rhabdomyolysis."
        }
    };
    if r.recent() {
        format!(
            "{why} Started within {RECENT_WEEKS} weeks: a recent start makes it the stronger suspect."
        )
    } else {
        why.to_owned()
    }
}

fn citations(class: DrugClass) -> Vec<Citation> {
    match class {
        C::ThiazideDiuretic
        | C::LoopDiuretic
        | C::PotassiumSparingDiuretic
        | C::LongActingBetaAgonist => vec![sources::S12],
        C::Statin | C::StatinInteracting => vec![sources::S12, sources::S17, sources::S18],
        C::ProtonPumpInhibitor => vec![sources::S25],
        C::Raloxifene
        | C::Estrogen
        | C::Teriparatide
        | C::IntravenousIron
        | C::Naproxen
        | C::OtherReported => vec![sources::S13],
        C::Quinine => vec![sources::S13, sources::S14],
    }
}

const fn advice(class: DrugClass) -> &'static str {
    match class {
        C::Quinine => {
            "Review quinine use with the prescriber: it is not recommended for cramps because of serious side effects. Do not change any medicine without the prescriber."
        }
        C::Statin => {
            "Review with the prescriber before any change; do not stop the statin on your own, since it protects the heart and arteries (essential in peripheral artery disease)."
        }
        C::StatinInteracting => {
            "Ask the prescriber or pharmacist to review this combination with the statin; do not stop either medicine on your own."
        }
        C::ThiazideDiuretic
        | C::LoopDiuretic
        | C::PotassiumSparingDiuretic
        | C::LongActingBetaAgonist
        | C::ProtonPumpInhibitor
        | C::Raloxifene
        | C::Estrogen
        | C::Teriparatide
        | C::IntravenousIron
        | C::Naproxen
        | C::OtherReported => {
            "Review with the prescriber whether this medicine could be contributing; do not stop or change it on your own."
        }
    }
}

/// Findings in the output's order: recent before long-standing, then by evidence strength, then
/// class and name, so list order never changes the result.
pub(crate) fn findings(recognised: &[Recognised]) -> Vec<MedicationFinding> {
    let mut out: Vec<MedicationFinding> = recognised
        .iter()
        .map(|r| MedicationFinding {
            input_name: r.input_name.clone(),
            ingredient: r.ingredient,
            drug_class: r.class,
            match_kind: r.match_kind,
            evidence_strength: strength(r.class),
            recent: r.recent(),
            rationale: rationale(r),
            advice: advice(r.class),
            citations: citations(r.class),
            codings: rxnorm_coding(r.ingredient)
                .into_iter()
                .chain(r.atc)
                .collect(),
        })
        .collect();
    out.sort_by(|a, b| {
        b.recent
            .cmp(&a.recent)
            .then(a.evidence_strength.cmp(&b.evidence_strength))
            .then(a.drug_class.cmp(&b.drug_class))
            .then(a.ingredient.cmp(b.ingredient))
            .then(a.input_name.cmp(&b.input_name))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(name: &str) -> Vec<(&'static str, DrugClass)> {
        let m = Medication {
            name: name.into(),
            ..Medication::default()
        };
        recognise(&[m])
            .iter()
            .map(|r| (r.ingredient, r.class))
            .collect()
    }

    #[test]
    fn doses_frequencies_and_case_are_ignored() {
        assert_eq!(
            classes("HCTZ 25 mg"),
            [("hydrochlorothiazide", C::ThiazideDiuretic)]
        );
        assert_eq!(
            classes("Furosemide 40mg BID"),
            [("furosemide", C::LoopDiuretic)]
        );
        assert_eq!(
            classes("ATORVASTATIN 40 MG at night"),
            [("atorvastatin", C::Statin)]
        );
        assert_eq!(
            classes("chlortalidone 12.5 mg"),
            [("chlorthalidone", C::ThiazideDiuretic)]
        );
    }

    #[test]
    fn combination_products_yield_each_culprit() {
        assert_eq!(
            classes("fluticasone/salmeterol 250/50"),
            [("salmeterol", C::LongActingBetaAgonist)]
        );
        assert_eq!(
            classes("budesonide + formoterol 160/4.5"),
            [("formoterol", C::LongActingBetaAgonist)]
        );
        assert_eq!(
            classes("losartan/HCTZ 50/12.5"),
            [("hydrochlorothiazide", C::ThiazideDiuretic)]
        );
        assert_eq!(
            classes("conjugated estrogens 0.625"),
            [("conjugated estrogens", C::Estrogen)]
        );
    }

    #[test]
    fn negative_controls_and_unrelated_drugs_match_nothing() {
        for n in [
            "tiotropium",
            "ipratropium inhaler",
            "metoprolol succinate 50 mg",
            "atenolol",
            "bisoprolol",
            "amlodipine 5 mg",
            "lisinopril",
            "vitamin D3 1000 IU",
            "aspirin 81",
            "insulin glargine",
            "metformin 1000 mg",
            "apixaban",
            "salbutamol inhaler",
            "prenatal vitamin",
            "umeclidinium",
        ] {
            assert!(classes(n).is_empty(), "{n} must not be recognised");
        }
    }

    #[test]
    fn interacting_drug_only_beside_a_statin() {
        let clari = Medication {
            name: "clarithromycin 500 mg".into(),
            ..Medication::default()
        };
        let statin = Medication {
            name: "simvastatin".into(),
            ..Medication::default()
        };
        assert!(recognise(std::slice::from_ref(&clari)).is_empty());
        let both: Vec<DrugClass> = recognise(&[clari, statin])
            .iter()
            .map(|r| r.class)
            .collect();
        assert!(both.contains(&C::StatinInteracting) && both.contains(&C::Statin));
    }

    #[test]
    fn atc_codes_win_and_unknown_codes_fall_back_to_the_name() {
        let coded = Medication {
            name: "water pill".into(),
            atc_code: Some("c03aa03".into()),
            ..Medication::default()
        };
        let r = recognise(&[coded]);
        assert_eq!(
            r.first().map(|r| (r.ingredient, r.match_kind)),
            Some(("hydrochlorothiazide", MedicationMatch::Atc))
        );
        let prefix = Medication {
            name: "something".into(),
            atc_code: Some("C10AA05".into()),
            ..Medication::default()
        };
        assert_eq!(
            recognise(&[prefix]).first().map(|r| r.class),
            Some(C::Statin)
        );
        let unknown = Medication {
            name: "furosemide".into(),
            atc_code: Some("Z99ZZ99".into()),
            ..Medication::default()
        };
        assert_eq!(
            recognise(&[unknown]).first().map(|r| r.match_kind),
            Some(MedicationMatch::Exact)
        );
    }

    #[test]
    fn rxnorm_codes_win_over_the_name() {
        let m = Medication {
            name: "blood pressure pill".into(),
            rxnorm_cui: Some("5487".into()),
            ..Medication::default()
        };
        let r = recognise(&[m]);
        assert_eq!(
            r.first().map(|r| (r.ingredient, r.match_kind)),
            Some(("hydrochlorothiazide", MedicationMatch::Rxnorm))
        );
        let unknown = Medication {
            name: "omeprazole 20 mg".into(),
            rxnorm_cui: Some("999999999".into()),
            ..Medication::default()
        };
        assert_eq!(
            recognise(&[unknown]).first().map(|r| r.match_kind),
            Some(MedicationMatch::Exact)
        );
        let f = findings(&recognise(&[Medication {
            name: "atorvastatin".into(),
            ..Medication::default()
        }]));
        assert!(
            f.iter()
                .flat_map(|f| &f.codings)
                .any(|c| c.system == RXNORM_SYSTEM && c.code == "83367")
        );
    }

    #[test]
    fn every_rxnorm_entry_names_a_lexicon_ingredient() {
        for (cui, name) in RXNORM {
            assert!(
                by_rxnorm(cui).is_some_and(|i| i.name == *name),
                "{cui} {name}"
            );
        }
    }

    #[test]
    fn recently_stopped_drugs_are_not_current_suspects() {
        let m = Medication {
            name: "HCTZ".into(),
            recently_stopped: Some(true),
            ..Medication::default()
        };
        assert!(recognise(&[m]).is_empty());
    }

    #[test]
    fn recent_drugs_are_listed_first() {
        let old = Medication {
            name: "salmeterol".into(),
            weeks_since_started: Some(300),
            ..Medication::default()
        };
        let new = Medication {
            name: "atorvastatin".into(),
            weeks_since_started: Some(4),
            ..Medication::default()
        };
        let f = findings(&recognise(&[old, new]));
        assert_eq!(
            f.iter().map(|f| f.drug_class).collect::<Vec<_>>(),
            [C::Statin, C::LongActingBetaAgonist]
        );
    }
}
