//! Medication recognition: which drugs on a patient's list are linked to cramps, and how sure the
//! match is.
//!
//! Real lists are messy: EHR exports carry RxNorm or ATC codes, intake forms carry whatever the
//! patient typed. Codes are read first (an RxNorm ingredient id, an ATC substance code, or a
//! verified ATC class prefix such as C03AA); an unknown code falls back to the name. Names go
//! through the versioned lexicon in `meds/lexicon.rs` (`data/medication_lexicon.txt`): generic
//! names and international spellings, abbreviations, US and UK brands and combination products,
//! then a bounded fuzzy match for misspellings. Negative controls of Garrison 2012 (inhaled
//! anticholinergics, beta blockers) are known to the lexicon, so they are recognised as such and
//! can never be flagged, not even through a misspelling.

mod fuzzy;
pub(crate) mod lexicon;
mod normalize;

use crate::input::Medication;
use crate::kb::sources;
use crate::output::{
    Citation, Coding, DrugClass, EvidenceStrength, MedicationFinding, MedicationMatch,
};
pub use lexicon::{
    IngredientMatch, LexiconIngredient, LexiconProduct, LexiconSource, MedicationLexicon,
    MedicationRole, ProductKind,
};

/// Weeks within which a newly started drug is the stronger suspect (clinical-reference.md e.12).
pub(crate) const RECENT_WEEKS: u32 = 12;

/// RxNorm code system URI.
pub(crate) const RXNORM_SYSTEM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";

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

use DrugClass as C;

/// How a recognised entry was matched, for the rationale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Basis {
    /// A generic name, spelling or abbreviation.
    Name,
    /// A brand or combination name (the product's name).
    Product(&'static str),
    /// A probable misspelling of this lexicon term.
    Misspelling(&'static str),
    /// The RxNorm code on the entry.
    Rxnorm(&'static str),
    /// The ATC code on the entry (substance code or class prefix).
    Atc(&'static str),
}

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
    rxnorm: Option<&'static str>,
    basis: Basis,
    /// The lexicon source key behind the match, if it came from the lexicon.
    source: Option<&'static str>,
}

impl Recognised {
    pub(crate) fn recent(&self) -> bool {
        self.weeks_since_started.is_some_and(|w| w <= RECENT_WEEKS)
    }
}

/// Whether `name` contains the one-word generic `generic` (lower case), in any case. Rules call
/// this per medication line, so it allocates nothing.
pub(crate) fn mentions(name: &str, generic: &str) -> bool {
    name.split(|c: char| !c.is_alphabetic())
        .any(|w| w.eq_ignore_ascii_case(generic))
}

fn rxnorm_coding(ingredient: &'static str, code: Option<&'static str>) -> Option<Coding> {
    code.map(|code| Coding {
        system: RXNORM_SYSTEM,
        code,
        display: ingredient,
    })
}

/// What one medication line names, before the statin-interaction filter.
fn recognise_one(lex: &MedicationLexicon, index: usize, m: &Medication, out: &mut Vec<Recognised>) {
    let scan = lex.scan(&m.name);
    let entry = |i: usize, match_kind, basis, source| {
        let (ing, atc) = lex.entry(i)?;
        ing.role.class().map(|class| Recognised {
            index,
            input_name: m.name.clone(),
            ingredient: ing.name,
            class,
            match_kind,
            weeks_since_started: m.weeks_since_started,
            atc,
            rxnorm: ing.rxnorm,
            basis,
            source,
        })
    };
    let first = out.len();
    let mut coded: Option<usize> = None;
    let mut coded_class: Option<DrugClass> = None;
    if let Some(i) = m.rxnorm_cui.as_deref().and_then(|c| lex.by_rxnorm(c)) {
        let code = lex
            .entry(i)
            .and_then(|(ing, _)| ing.rxnorm)
            .unwrap_or_default();
        coded = Some(i);
        out.extend(entry(i, MedicationMatch::Rxnorm, Basis::Rxnorm(code), None));
    } else if let Some(code) = m.atc_code.as_deref().map(|c| {
        c.chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_uppercase()
    }) {
        if let Some(i) = lex.by_atc(&code) {
            let atc = lex
                .entry(i)
                .and_then(|(ing, _)| ing.atc)
                .unwrap_or_default();
            coded = Some(i);
            out.extend(entry(i, MedicationMatch::Atc, Basis::Atc(atc), None));
        } else if let Some((prefix, class, label)) =
            ATC_CLASSES.iter().find(|(p, _, _)| code.starts_with(p))
        {
            // The code names the class; the name may sharpen the ingredient within it.
            coded_class = Some(*class);
            let named = scan.hits.iter().find(|h| {
                lex.entry(h.ingredient)
                    .is_some_and(|(ing, _)| ing.role == MedicationRole::Culprit(*class))
            });
            match named {
                Some(h) => out.extend(entry(
                    h.ingredient,
                    MedicationMatch::Atc,
                    Basis::Atc(prefix),
                    None,
                )),
                None => out.push(Recognised {
                    index,
                    input_name: m.name.clone(),
                    ingredient: label,
                    class: *class,
                    match_kind: MedicationMatch::Atc,
                    weeks_since_started: m.weeks_since_started,
                    atc: None,
                    rxnorm: None,
                    basis: Basis::Atc(prefix),
                    source: None,
                }),
            }
        }
    }
    // Any other culprit the name carries still counts (a combination product, or a code that
    // names only one of its parts).
    for h in &scan.hits {
        let Some((ing, _)) = lex.entry(h.ingredient) else {
            continue;
        };
        let Some(class) = ing.role.class() else {
            continue;
        };
        if coded == Some(h.ingredient) || coded_class == Some(class) {
            continue;
        }
        let basis = match h.match_kind {
            MedicationMatch::Fuzzy => Basis::Misspelling(h.term),
            MedicationMatch::Brand => Basis::Product(h.term),
            MedicationMatch::Exact | MedicationMatch::Rxnorm | MedicationMatch::Atc
                if h.term != ing.name && !ing.spellings.contains(&h.term) =>
            {
                Basis::Product(h.term)
            }
            MedicationMatch::Exact | MedicationMatch::Rxnorm | MedicationMatch::Atc => Basis::Name,
        };
        out.extend(entry(h.ingredient, h.match_kind, basis, Some(h.source)));
    }
    if scan.topical {
        // Ketoconazole shampoo or cream does not reach interacting blood levels.
        let mut k = first;
        while let Some(r) = out.get(k) {
            if r.class == C::StatinInteracting {
                out.remove(k);
            } else {
                k += 1;
            }
        }
    }
}

/// Recognises every culprit on the list; recently stopped drugs are not current suspects.
pub(crate) fn recognise(meds: &[Medication]) -> Vec<Recognised> {
    let lex = MedicationLexicon::standard();
    let mut out: Vec<Recognised> = Vec::new();
    for (index, m) in meds.iter().enumerate() {
        if m.recently_stopped != Some(true) {
            recognise_one(lex, index, m, &mut out);
        }
    }
    // A CYP3A4 inhibitor matters only beside a statin.
    if !out.iter().any(|r| r.class == C::Statin) {
        out.retain(|r| r.class != C::StatinInteracting);
    }
    out
}

/// The medication findings for a list, exactly as an assessment reports them: culprits only,
/// recent before long-standing, then by evidence strength, in an order the list's order cannot
/// change.
///
/// ```
/// use cramp_core::{recognise_medications, DrugClass, Medication, MedicationMatch};
///
/// let list = [
///     Medication { name: "Hyzaar 50-12.5".into(), ..Medication::default() },
///     Medication { name: "Spiriva Respimat".into(), ..Medication::default() },
/// ];
/// let findings = recognise_medications(&list);
/// assert_eq!(findings.len(), 1, "tiotropium is a negative control");
/// assert_eq!(findings[0].ingredient, "hydrochlorothiazide");
/// assert_eq!(findings[0].drug_class, DrugClass::ThiazideDiuretic);
/// assert_eq!(findings[0].match_kind, MedicationMatch::Brand);
/// ```
#[must_use]
pub fn recognise_medications(meds: &[Medication]) -> Vec<MedicationFinding> {
    findings(&recognise(meds), crate::engine::Detail::Full)
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
    // Built by pushing pieces: this runs for every finding of every assessment.
    let mut text = String::with_capacity(why.len() + 160);
    text.push_str(why);
    if r.recent() {
        text.push_str(RECENT_SENTENCE);
    }
    let lexicon = MedicationLexicon::standard().version();
    let (lead, term, tail) = match r.basis {
        Basis::Name => (" Recognised by its generic name", "", ""),
        Basis::Product(product) => (" Recognised as an ingredient of ", product, ""),
        Basis::Misspelling(term) => (
            " Recognised as a probable misspelling of ",
            term,
            "; confirm the name with the patient or the label",
        ),
        Basis::Rxnorm(code) => (" Recognised from RxNorm code ", code, ""),
        Basis::Atc(code) => (" Recognised from ATC code ", code, ""),
    };
    text.push_str(lead);
    text.push_str(term);
    // g.7: a combination product names its ingredients.
    if let Basis::Product(product) = r.basis
        && let Some(p) = MedicationLexicon::standard()
            .products()
            .iter()
            .find(|p| p.name == product)
        && p.ingredients.len() > 1
    {
        text.push_str(" (");
        for (i, ing) in p.ingredients.iter().enumerate() {
            if i > 0 {
                text.push_str(" + ");
            }
            text.push_str(ing);
        }
        text.push(')');
    }
    if let Some(source) = r.source {
        text.push_str(" (medication lexicon ");
        text.push_str(lexicon);
        text.push_str(", source ");
        text.push_str(source);
        text.push(')');
    }
    text.push_str(tail);
    text.push('.');
    text
}

/// Appended to the rationale of a drug started within [`RECENT_WEEKS`].
const RECENT_SENTENCE: &str =
    " Started within 12 weeks: a recent start makes it the stronger suspect.";

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
/// class and name, so list order never changes the result. [`Detail::Codes`] leaves the
/// rationale empty and the citations out.
///
/// [`Detail::Codes`]: crate::engine::Detail::Codes
pub(crate) fn findings(
    recognised: &[Recognised],
    detail: crate::engine::Detail,
) -> Vec<MedicationFinding> {
    let prose = detail == crate::engine::Detail::Full;
    let mut out: Vec<MedicationFinding> = recognised
        .iter()
        .map(|r| MedicationFinding {
            input_name: r.input_name.clone(),
            ingredient: r.ingredient,
            drug_class: r.class,
            match_kind: r.match_kind,
            evidence_strength: strength(r.class),
            recent: r.recent(),
            rationale: if prose { rationale(r) } else { String::new() },
            advice: advice(r.class),
            citations: if prose {
                citations(r.class)
            } else {
                Vec::new()
            },
            codings: rxnorm_coding(r.ingredient, r.rxnorm)
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

    fn med(name: &str) -> Medication {
        Medication {
            name: name.into(),
            ..Medication::default()
        }
    }

    fn classes(name: &str) -> Vec<(&'static str, DrugClass)> {
        recognise(&[med(name)])
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
            classes("Vimovo 500/20"),
            [
                ("naproxen", C::Naproxen),
                ("esomeprazole", C::ProtonPumpInhibitor)
            ]
        );
        assert_eq!(
            classes("Aldactazide 25/25"),
            [
                ("spironolactone", C::PotassiumSparingDiuretic),
                ("hydrochlorothiazide", C::ThiazideDiuretic)
            ]
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
            "Spiriva Respimat",
            "tiotropim",
        ] {
            assert!(classes(n).is_empty(), "{n} must not be recognised");
        }
    }

    #[test]
    fn interacting_drug_only_beside_a_statin_and_never_topical() {
        let clari = med("clarithromycin 500 mg");
        assert!(recognise(std::slice::from_ref(&clari)).is_empty());
        let both: Vec<DrugClass> = recognise(&[clari, med("simvastatin")])
            .iter()
            .map(|r| r.class)
            .collect();
        assert!(both.contains(&C::StatinInteracting) && both.contains(&C::Statin));
        let paxlovid: Vec<DrugClass> = recognise(&[med("Paxlovid"), med("Lipitor 40")])
            .iter()
            .map(|r| r.class)
            .collect();
        assert!(paxlovid.contains(&C::StatinInteracting));
        let shampoo: Vec<DrugClass> = recognise(&[med("Nizoral shampoo"), med("Zocor")])
            .iter()
            .map(|r| r.class)
            .collect();
        assert_eq!(shampoo, [C::Statin]);
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
        let sharpened = Medication {
            name: "Lipitor 40".into(),
            atc_code: Some("C10AA05".into()),
            ..Medication::default()
        };
        assert_eq!(
            recognise(&[sharpened])
                .iter()
                .map(|r| (r.ingredient, r.match_kind))
                .collect::<Vec<_>>(),
            [("atorvastatin", MedicationMatch::Atc)]
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
        let f = findings(
            &recognise(&[med("atorvastatin")]),
            crate::engine::Detail::Full,
        );
        assert!(
            f.iter()
                .flat_map(|f| &f.codings)
                .any(|c| c.system == RXNORM_SYSTEM && c.code == "83367")
        );
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
        let f = findings(&recognise(&[old, new]), crate::engine::Detail::Full);
        assert_eq!(
            f.iter().map(|f| f.drug_class).collect::<Vec<_>>(),
            [C::Statin, C::LongActingBetaAgonist]
        );
    }

    #[test]
    fn rationale_says_how_the_drug_was_recognised_and_advice_never_says_stop_taking() {
        let f = recognise_medications(&[med("Hyzaar"), med("atorvastatn"), med("Qualaquin")]);
        let text: Vec<&str> = f.iter().map(|f| f.rationale.as_str()).collect();
        assert!(
            text.iter()
                .any(|t| t.contains("ingredient of Hyzaar") && t.contains("source HYZAAR"))
        );
        assert!(
            text.iter()
                .any(|t| t.contains("probable misspelling of atorvastatin"))
        );
        assert!(
            f.iter()
                .any(|f| f.drug_class == C::Quinine && f.advice.contains("not recommended"))
        );
        for finding in &f {
            assert!(!finding.advice.to_lowercase().contains("stop taking"));
            assert!(finding.advice.contains("prescriber"));
        }
    }
}
