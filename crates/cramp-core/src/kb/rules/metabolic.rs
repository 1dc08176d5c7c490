//! Electrolytes, kidney, fluids, thyroid, liver and vitamin D (clinical-reference.md b.3, b.5, f).
//!
//! Lab thresholds are those of section (f), each named once as a constant with its source key.
//! Plausibility bounds are enforced at validation, so every value seen here is in range.

use crate::engine::facts::{self, Facts, ev, ev_val, trues, yes};
use crate::engine::{Fire, RuleOut};
use crate::input::{CkdStage, Context, Thyroid, UrineColor};
use crate::kb::sources::{
    L1, L2, L4, L5, L7, L9, L11, L12, L13, L14, L15, L18, L19, L21, S1, S2, S10, S11, S13, S25,
    S26, S27, S28, S32, S36,
};
use crate::kb::{Rule, RuleMeta, codes};
use crate::output::{DrugClass, Evidence, Flag, Urgency, Workup};

const V1: &str = "1.0.0";

// Potassium, mmol/L (L1, L2).
pub(crate) const K_LOW: f64 = 3.5;
pub(crate) const K_MODERATE_LOW: f64 = 3.0;
const K_SEVERE_LOW: f64 = 2.5;
const K_HIGH: f64 = 5.5;
pub(crate) const K_MODERATE_HIGH: f64 = 6.0;
const K_SEVERE_HIGH: f64 = 6.5;
// Sodium, mmol/L (L4, L5).
const NA_LOW: f64 = 135.0;
pub(crate) const NA_MODERATE_LOW: f64 = 130.0;
const NA_PROFOUND_LOW: f64 = 125.0;
const NA_HIGH: f64 = 145.0;
// Magnesium, mg/dL (L7-L9): default low cut-off without a lab range, and the level below which
// symptoms usually start. Below it mmol/L or mEq/L values also land, so units are asked for.
pub(crate) const MG_LOW: f64 = 1.8;
pub(crate) const MG_SEVERE_LOW: f64 = 1.2;
// Calcium (total), mg/dL (L10-L12, L6).
pub(crate) const CA_LOW: f64 = 8.8;
const CA_SEVERE_LOW: f64 = 7.6;
const CA_HIGH: f64 = 10.4;
const CA_SEVERE_HIGH: f64 = 14.0;
// Phosphate, mg/dL (L11, L14); below 1.5 mmol/L values mimic severe lows.
const P_LOW: f64 = 2.5;
const P_SEVERE_LOW: f64 = 1.0;
const P_HIGH: f64 = 4.5;
const P_UNIT_TRAP: f64 = 1.5;
// eGFR, mL/min/1.73 m2 (L15, S10).
const EGFR_CKD: f64 = 60.0;
const EGFR_G4: f64 = 30.0;
const EGFR_G5: f64 = 15.0;
/// Age from which NICE NG148 [S36] counts acute illness as an acute-kidney-injury risk.
const AKI_RISK_AGE: u32 = 65;
// TSH, mIU/L (L18).
const TSH_HIGH: f64 = 4.5;
// 25-OH vitamin D, ng/mL (L19).
const VITD_ADEQUATE: f64 = 20.0;
const VITD_AT_RISK: f64 = 12.0;
const VITD_CONCERN: f64 = 50.0;

/// Acute symptoms that lift an electrolyte disturbance to an emergency (f, preamble).
fn acute_electrolyte_symptoms(f: &Facts<'_>) -> Vec<Evidence> {
    let s = &f.h.symptoms;
    trues(&[
        ("symptoms.hand_or_foot_spasms", s.hand_or_foot_spasms),
        ("symptoms.confusion", s.confusion),
        ("symptoms.sudden_weakness", s.sudden_weakness),
        ("symptoms.palpitations", s.palpitations),
        ("symptoms.fainting", s.fainting),
    ])
}

/// Severe or symptomatic electrolyte disturbance by the (f) action thresholds, and clinical
/// tetany or palpitations, which need same-day Ca, Mg, K, phosphate and an ECG (b.5).
pub(crate) const SEVERE_ELECTROLYTE: Rule = Rule {
    meta: RuleMeta {
        id: "metabolic.severe_electrolyte_disturbance",
        version: V1,
        title: "Severe or symptomatic electrolyte disturbance",
        flag: Flag::SevereElectrolyteDisturbance,
        rationale: "Markedly abnormal potassium, sodium, magnesium, calcium or phosphate, or tetany, tingling around the mouth or palpitations with cramps, can cause dangerous heart rhythms, seizures or laryngospasm. Severe values or acute symptoms with an abnormal value are emergencies; the rest need same-day tests and an ECG.",
        inputs: &[
            "findings.labs.potassium_mmol_l",
            "findings.labs.sodium_mmol_l",
            "findings.labs.magnesium_mg_dl",
            "findings.labs.calcium_mg_dl",
            "findings.labs.phosphate_mg_dl",
            "symptoms.tingling_around_mouth",
            "symptoms.hand_or_foot_spasms",
            "symptoms.palpitations",
            "symptoms.confusion",
            "symptoms.fainting",
            "symptoms.muscle_weakness",
            "symptoms.shortness_of_breath",
        ],
        citations: &[L1, L2, L4, L5, L7, L9, L11, L12, L13, L14, S28, S25],
        codings: &[],
        max_urgency: Urgency::Emergency,
    },
    eval: severe_electrolyte,
};

fn severe_electrolyte(f: &Facts<'_>, out: &mut RuleOut) {
    let l = &f.h.findings.labs;
    let s = &f.h.symptoms;
    let acute = acute_electrolyte_symptoms(f);
    let mut urgency: Option<Urgency> = None;
    let mut evidence: Vec<Evidence> = Vec::new();
    let mut reasons: Vec<&'static str> = Vec::new();
    let mut fire_codes = Vec::new();
    let mut raise = |u: Urgency, e: Evidence, why: &'static str| {
        urgency = Some(urgency.map_or(u, |x| x.min(u)));
        evidence.push(e);
        reasons.push(why);
    };
    let low_any = l.potassium_mmol_l.is_some_and(|v| v < K_LOW)
        || l.sodium_mmol_l.is_some_and(|v| v < NA_LOW)
        || l.magnesium_mg_dl.is_some_and(|v| v < MG_LOW)
        || l.calcium_mg_dl.is_some_and(|v| v < CA_LOW)
        || l.phosphate_mg_dl.is_some_and(|v| v < P_LOW);

    if let Some(k) = l.potassium_mmol_l {
        let e = || ev_val("findings.labs.potassium_mmol_l", k);
        if k < K_SEVERE_LOW {
            raise(
                Urgency::Emergency,
                e(),
                "potassium below 2.5 mmol/L (severe)",
            );
        } else if k < K_MODERATE_LOW {
            raise(
                Urgency::Urgent,
                e(),
                "potassium 2.5-2.9 mmol/L (moderate): same-day treatment and ECG",
            );
        } else if k >= K_SEVERE_HIGH {
            raise(
                Urgency::Emergency,
                e(),
                "potassium 6.5 mmol/L or more (severe)",
            );
        } else if k >= K_MODERATE_HIGH {
            raise(
                Urgency::Urgent,
                e(),
                "potassium 6.0-6.4 mmol/L (moderate): same-day repeat and ECG; haemolysis gives false highs",
            );
        }
        if k < K_LOW {
            fire_codes.push(codes::ICD_HYPOKALEMIA);
        }
    }
    if let Some(na) = l.sodium_mmol_l {
        let e = || ev_val("findings.labs.sodium_mmol_l", na);
        if na < NA_LOW && yes(s.confusion) {
            raise(
                Urgency::Emergency,
                e(),
                "low sodium with neurological symptoms",
            );
        } else if na < NA_PROFOUND_LOW {
            raise(Urgency::Urgent, e(), "sodium below 125 mmol/L (profound)");
        } else if na < NA_MODERATE_LOW {
            raise(Urgency::Urgent, e(), "sodium 125-129 mmol/L (moderate)");
        }
    }
    if let Some(mg) = l.magnesium_mg_dl {
        let e = || ev_val("findings.labs.magnesium_mg_dl", mg);
        let arrhythmia_or_tetany =
            yes(s.hand_or_foot_spasms) || yes(s.palpitations) || yes(s.fainting);
        if mg < MG_LOW && arrhythmia_or_tetany {
            raise(
                Urgency::Emergency,
                e(),
                "low magnesium with tetany or possible arrhythmia",
            );
        } else if mg < MG_SEVERE_LOW {
            raise(
                Urgency::Urgent,
                e(),
                "magnesium below 1.2 mg/dL, where symptoms usually start: same-day treatment and ECG",
            );
        }
        if mg < MG_LOW {
            fire_codes.push(codes::ICD_HYPOMAGNESEMIA);
        }
        if mg < MG_SEVERE_LOW {
            out.ask("findings.labs.magnesium_mg_dl", "Was this magnesium reported in mg/dL? Values in mmol/L or mEq/L look like severe lows in mg/dL.", "A unit error would change a same-day result into a normal one; the urgency stays until the unit is confirmed.");
        }
    }
    if let Some(ca) = l.calcium_mg_dl {
        let e = || ev_val("findings.labs.calcium_mg_dl", ca);
        let symptomatic =
            yes(s.tingling_around_mouth) || yes(s.hand_or_foot_spasms) || yes(s.confusion);
        if ca < CA_SEVERE_LOW {
            raise(
                Urgency::Emergency,
                e(),
                "total calcium below 7.6 mg/dL (confirm with albumin-adjusted or ionized calcium)",
            );
        } else if ca < CA_LOW && symptomatic {
            raise(
                Urgency::Emergency,
                e(),
                "low calcium with symptoms (tingling, spasm or confusion)",
            );
        } else if ca >= CA_SEVERE_HIGH {
            raise(Urgency::Emergency, e(), "calcium 14 mg/dL or more (severe)");
        }
        if ca < CA_LOW {
            fire_codes.push(codes::ICD_HYPOCALCEMIA);
        }
    }
    if let Some(p) = l.phosphate_mg_dl {
        let e = || ev_val("findings.labs.phosphate_mg_dl", p);
        if p < P_SEVERE_LOW && (yes(s.muscle_weakness) || yes(s.shortness_of_breath)) {
            raise(
                Urgency::Emergency,
                e(),
                "phosphate below 1.0 mg/dL with weakness or breathing difficulty",
            );
        } else if p < P_SEVERE_LOW {
            raise(Urgency::Urgent, e(), "phosphate below 1.0 mg/dL (severe)");
        }
        if p < P_UNIT_TRAP {
            out.ask("findings.labs.phosphate_mg_dl", "Was this phosphate reported in mg/dL? Values in mmol/L look like severe lows in mg/dL.", "A unit error would change the urgency; it stays until the unit is confirmed.");
        }
    }
    if low_any && !acute.is_empty() {
        for e in acute.iter().cloned() {
            raise(
                Urgency::Emergency,
                e,
                "acute symptoms with an abnormal electrolyte",
            );
        }
    }
    // Clinical tetany or palpitations without labs: same-day Ca, Mg, K, phosphate and ECG (b.5).
    let clinical = trues(&[
        ("symptoms.tingling_around_mouth", s.tingling_around_mouth),
        ("symptoms.hand_or_foot_spasms", s.hand_or_foot_spasms),
        ("symptoms.palpitations", s.palpitations),
    ]);
    for e in clinical {
        raise(
            Urgency::Urgent,
            e,
            "tetany, tingling around the mouth or palpitations with cramps",
        );
    }
    let Some(urgency) = urgency else {
        return;
    };
    reasons.dedup();
    let rationale = if f.prose() {
        format!("Electrolyte red flag: {}.", reasons.join("; "))
    } else {
        String::new()
    };
    let mut fire = Fire::new(urgency, rationale, evidence);
    fire.codings = fire_codes;
    if urgency == Urgency::Emergency {
        fire.add_workup(Workup::EmergencyCare, "For a severe electrolyte disturbance the team will need potassium, magnesium, calcium (albumin-adjusted or ionized), phosphate, sodium and an ECG.");
    } else {
        fire.add_workup(
            Workup::BasicMetabolicPanel,
            "Same day: sodium, potassium, calcium and kidney function.",
        );
        fire.add_workup(Workup::Magnesium, "Same day: magnesium, ordered separately (not in the basic or comprehensive panel); low magnesium keeps potassium and calcium low.");
        fire.add_workup(Workup::Calcium, "Albumin-adjusted or ionized calcium.");
        fire.add_workup(Workup::Phosphate, "Phosphate, ordered separately.");
        fire.add_workup(Workup::Ecg, "Same-day ECG for rhythm and QT changes.");
    }
    out.fire(fire);
}

/// Kidney-related symptoms with cramps, known CKD, or a low eGFR (b.3, S10): eGFR and UACR plus
/// the electrolytes kidney disease disturbs. Symptoms appear late, so their absence never
/// reassures.
pub(crate) const KIDNEY_DISEASE_SIGNS: Rule = Rule {
    meta: RuleMeta {
        id: "metabolic.kidney_disease_signs",
        version: "2.0.0",
        title: "Kidney-related signs",
        flag: Flag::KidneyDiseaseSigns,
        rationale: "Cramps with changes in urination, ankle swelling, fatigue, itching, a metallic taste or unexplained weight change, or known kidney disease or a low eGFR, call for kidney testing (eGFR and urine albumin-creatinine ratio) and potassium, calcium, phosphate and magnesium. Such symptoms appear late; one abnormal value cannot tell chronic from acute kidney disease.",
        inputs: &[
            "symptoms.urination_changes",
            "symptoms.ankle_swelling",
            "symptoms.metallic_taste",
            "symptoms.itching",
            "symptoms.unexplained_weight_change",
            "symptoms.persistent_fatigue",
            "conditions.chronic_kidney_disease",
            "conditions.ckd_stage",
            "findings.labs.egfr_ml_min_1_73m2",
        ],
        citations: &[S10, L15, S1],
        codings: &[],
        max_urgency: Urgency::Urgent,
    },
    eval: kidney_disease_signs,
};

fn kidney_disease_signs(f: &Facts<'_>, out: &mut RuleOut) {
    if f.on_dialysis() {
        return; // (e.9) routed to the dialysis team, not to CKD screening
    }
    let s = &f.h.symptoms;
    let c = &f.h.conditions;
    let symptoms = trues(&[
        ("symptoms.urination_changes", s.urination_changes),
        ("symptoms.ankle_swelling", s.ankle_swelling),
        ("symptoms.metallic_taste", s.metallic_taste),
        ("symptoms.itching", s.itching),
        (
            "symptoms.unexplained_weight_change",
            s.unexplained_weight_change,
        ),
        ("symptoms.persistent_fatigue", s.persistent_fatigue),
    ]);
    let egfr = f.h.findings.labs.egfr_ml_min_1_73m2;
    let known = yes(c.chronic_kidney_disease) || c.ckd_stage.is_some();
    let low_egfr = egfr.is_some_and(|e| e < EGFR_CKD);
    if symptoms.is_empty() && !known && !low_egfr {
        return;
    }
    let mut evidence = symptoms.clone();
    evidence.extend(trues(&[(
        "conditions.chronic_kidney_disease",
        c.chronic_kidney_disease,
    )]));
    if let Some(stage) = c.ckd_stage {
        evidence.push(ev_val("conditions.ckd_stage", stage.name()));
    }
    if let Some(e) = egfr.filter(|_| low_egfr) {
        evidence.push(ev_val("findings.labs.egfr_ml_min_1_73m2", e));
    }
    let g5 = c.ckd_stage == Some(CkdStage::G5) || egfr.is_some_and(|e| e < EGFR_G5);
    let g4 = c.ckd_stage == Some(CkdStage::G4) || egfr.is_some_and(|e| e < EGFR_G4);
    let (urgency, why) = if g5 {
        (
            Urgency::Urgent,
            "Kidney function in the G5 range without dialysis: same-day review for possible acute kidney injury or kidney failure.",
        )
    } else if g4 {
        (
            Urgency::Soon,
            "Kidney function in the G4 range: nephrology referral within days to weeks.",
        )
    } else if !symptoms.is_empty() {
        (
            Urgency::Soon,
            "Cramps with symptoms that can come from kidney disease, which appear late: test kidney function soon.",
        )
    } else {
        (
            Urgency::Routine,
            "Known or possible chronic kidney disease: kidney disease causes cramps through fluid and electrolyte shifts.",
        )
    };
    let mut fire = Fire::new(urgency, why, evidence);
    fire.add_workup(Workup::KidneyFunction, "Creatinine-based eGFR (CKD-EPI 2021; cystatin C where it changes decisions); confirm an abnormal result on repeat.");
    fire.add_workup(
        Workup::UrineAlbuminCreatinineRatio,
        "Urine albumin-creatinine ratio, with eGFR, stages kidney disease.",
    );
    fire.add_workup(
        Workup::BasicMetabolicPanel,
        "Potassium and calcium, which kidney disease disturbs.",
    );
    fire.add_workup(
        Workup::Phosphate,
        "Phosphate, ordered separately from the panel.",
    );
    fire.add_workup(
        Workup::Magnesium,
        "Magnesium, ordered separately from the panel.",
    );
    if known || low_egfr {
        fire.codings.push(codes::SCT_CKD);
    }
    match c.ckd_stage {
        Some(CkdStage::G1) => fire.codings.push(codes::ICD_CKD1),
        Some(CkdStage::G2) => fire.codings.push(codes::ICD_CKD2),
        Some(CkdStage::G4) => fire.codings.push(codes::ICD_CKD4),
        Some(CkdStage::G5) => fire.codings.push(codes::ICD_CKD5),
        Some(CkdStage::G3a | CkdStage::G3b) | None => {}
    }
    out.fire(fire);
}

/// Dialysis-associated cramps (b.3, S11): route to the dialysis team (dry weight, ultrafiltration),
/// not to CKD screening (e.9).
pub(crate) const DIALYSIS: Rule = Rule {
    meta: RuleMeta {
        id: "metabolic.dialysis_associated",
        version: V1,
        title: "Dialysis-associated cramps",
        flag: Flag::DialysisAssociated,
        rationale: "Cramps affect a third or more of people on hemodialysis, clustering late in sessions, driven by low blood pressure, being below dry weight, high ultrafiltration rates and electrolyte shifts. The dialysis team reviews the prescription (dry weight, ultrafiltration, session length, dialysate sodium).",
        inputs: &["conditions.on_dialysis", "cramps.contexts"],
        citations: &[S11, S13],
        codings: &[codes::ICD_ESRD, codes::SCT_ESRD],
        max_urgency: Urgency::Soon,
    },
    eval: dialysis,
};

fn dialysis(f: &Facts<'_>, out: &mut RuleOut) {
    if !f.on_dialysis() {
        return;
    }
    let mut evidence = trues(&[("conditions.on_dialysis", f.h.conditions.on_dialysis)]);
    if f.has_context(Context::DuringDialysis) {
        evidence.push(ev_val("cramps.contexts", Context::DuringDialysis.name()));
    }
    out.fire(
        Fire::new(Urgency::Soon, "Cramps in a person on dialysis: the dialysis team should review the prescription before the next sessions.", evidence)
            .workup(Workup::DialysisPrescriptionReview, "Dialysis team review: dry weight, ultrafiltration rate, interdialytic weight gain, dialysate sodium and intradialytic hypotension."),
    );
}

/// Trigger -> workup table of b.5: diuretics, PPIs, LABAs, alcohol, vomiting or diarrhea, heavy
/// sweating outside exercise, or CKD call for a BMP plus magnesium; mild lab abnormalities (f)
/// need repeat and review within days.
pub(crate) const ELECTROLYTE_RISK: Rule = Rule {
    meta: RuleMeta {
        id: "metabolic.electrolyte_imbalance_risk",
        version: V1,
        title: "Electrolyte or mineral imbalance risk",
        flag: Flag::ElectrolyteImbalanceRisk,
        rationale: "Diuretics, proton pump inhibitors, inhaled long-acting beta-agonists, heavy alcohol use, vomiting or diarrhea, heavy sweating and kidney disease can lower potassium, magnesium or calcium, which cause cramps. A basic metabolic panel plus magnesium (ordered separately, as neither panel includes it) checks for this; mildly abnormal results need repeat and review within days.",
        inputs: &[
            "medications",
            "conditions.heavy_alcohol_use",
            "conditions.recent_vomiting_or_diarrhea",
            "lifestyle.hot_environment_or_heavy_sweating",
            "cramps.contexts",
            "conditions.chronic_kidney_disease",
            "findings.labs.potassium_mmol_l",
            "findings.labs.sodium_mmol_l",
            "findings.labs.magnesium_mg_dl",
            "findings.labs.calcium_mg_dl",
            "findings.labs.phosphate_mg_dl",
        ],
        citations: &[
            S32, S25, S13, S28, S26, S1, S2, L1, L2, L5, L9, L11, L13, L14,
        ],
        codings: &[],
        max_urgency: Urgency::Soon,
    },
    eval: electrolyte_risk,
};

fn electrolyte_risk(f: &Facts<'_>, out: &mut RuleOut) {
    let c = &f.h.conditions;
    let mut evidence: Vec<Evidence> = Vec::new();
    let mut triggers: Vec<&'static str> = Vec::new();
    let mut phosphate = false;
    for m in f.current_meds() {
        let what = match m.class {
            DrugClass::ThiazideDiuretic
            | DrugClass::LoopDiuretic
            | DrugClass::PotassiumSparingDiuretic => "a diuretic",
            DrugClass::ProtonPumpInhibitor => "a proton pump inhibitor (low magnesium)",
            DrugClass::LongActingBetaAgonist => "an inhaled long-acting beta-agonist",
            DrugClass::Statin
            | DrugClass::Raloxifene
            | DrugClass::Estrogen
            | DrugClass::Teriparatide
            | DrugClass::IntravenousIron
            | DrugClass::Naproxen
            | DrugClass::Quinine
            | DrugClass::OtherReported
            | DrugClass::StatinInteracting => continue,
        };
        evidence.push(Evidence {
            field: facts::medication_name_field(m.index),
            value: m.input_name.clone().into(),
        });
        if !triggers.contains(&what) {
            triggers.push(what);
        }
    }
    if yes(c.heavy_alcohol_use) {
        evidence.push(ev("conditions.heavy_alcohol_use"));
        triggers.push("heavy alcohol use");
        phosphate = true;
    }
    if yes(c.recent_vomiting_or_diarrhea) {
        evidence.push(ev("conditions.recent_vomiting_or_diarrhea"));
        triggers.push("vomiting or diarrhea");
    }
    // Cramps only with exercise in the heat are exercise-associated cramps (S26), for which labs
    // add nothing; heavy sweating counts as a trigger when cramps also occur away from exercise.
    let exercise_only = !f.h.cramps.contexts.is_empty()
        && f.h
            .cramps
            .contexts
            .iter()
            .all(|x| matches!(x, Context::Exercise | Context::AfterExercise));
    if yes(f.h.lifestyle.hot_environment_or_heavy_sweating) && !exercise_only {
        evidence.push(ev("lifestyle.hot_environment_or_heavy_sweating"));
        triggers.push("heavy sweating");
    }
    if f.known_ckd() && !f.on_dialysis() {
        evidence.push(ev("conditions.chronic_kidney_disease"));
        triggers.push("kidney disease");
        phosphate = true;
    }
    // Mild abnormalities below the severe rule's thresholds (f): SOON.
    let l = &f.h.findings.labs;
    let mut mild: Vec<&'static str> = Vec::new();
    let mut calcium_low = false;
    if let Some(k) = l.potassium_mmol_l {
        if (K_MODERATE_LOW..K_LOW).contains(&k) {
            mild.push("mildly low potassium (3.0-3.4 mmol/L)");
        } else if (K_HIGH..K_MODERATE_HIGH).contains(&k) {
            mild.push(
                "mildly high potassium (5.5-5.9 mmol/L; confirm, haemolysis gives false highs)",
            );
        }
        if (K_MODERATE_LOW..K_LOW).contains(&k) || (K_HIGH..K_MODERATE_HIGH).contains(&k) {
            evidence.push(ev_val("findings.labs.potassium_mmol_l", k));
        }
    }
    if let Some(na) = l.sodium_mmol_l {
        if (NA_MODERATE_LOW..NA_LOW).contains(&na) {
            mild.push("mildly low sodium (130-134 mmol/L)");
            evidence.push(ev_val("findings.labs.sodium_mmol_l", na));
        } else if na > NA_HIGH {
            mild.push("high sodium (no agreed severe cut-off: clinician review, symptoms decide)");
            evidence.push(ev_val("findings.labs.sodium_mmol_l", na));
        }
    }
    if let Some(mg) = l
        .magnesium_mg_dl
        .filter(|m| (MG_SEVERE_LOW..MG_LOW).contains(m))
    {
        mild.push("low magnesium (below 1.8 mg/dL)");
        evidence.push(ev_val("findings.labs.magnesium_mg_dl", mg));
    }
    if let Some(ca) = l.calcium_mg_dl {
        if (CA_SEVERE_LOW..CA_LOW).contains(&ca) {
            mild.push(
                "possibly low total calcium (confirm with albumin-adjusted or ionized calcium)",
            );
            evidence.push(ev_val("findings.labs.calcium_mg_dl", ca));
            calcium_low = true;
        } else if ca > CA_HIGH && ca < CA_SEVERE_HIGH {
            mild.push("high calcium");
            evidence.push(ev_val("findings.labs.calcium_mg_dl", ca));
        }
    }
    if let Some(p) = l.phosphate_mg_dl
        && ((P_SEVERE_LOW..P_LOW).contains(&p) || p > P_HIGH)
    {
        mild.push(if p > P_HIGH {
            "high phosphate"
        } else {
            "low phosphate"
        });
        evidence.push(ev_val("findings.labs.phosphate_mg_dl", p));
        phosphate = true;
    }
    if triggers.is_empty() && mild.is_empty() {
        return;
    }
    let mut rationale = String::new();
    if f.prose() {
        let mut parts = Vec::new();
        if !triggers.is_empty() {
            parts.push(format!(
                "Risk of low potassium, magnesium or calcium from {}",
                triggers.join(", ")
            ));
        }
        if !mild.is_empty() {
            parts.push(format!("Abnormal results: {}", mild.join("; ")));
        }
        rationale = format!("{}.", parts.join(". "));
    }
    let urgency = if mild.is_empty() {
        Urgency::Routine
    } else {
        Urgency::Soon
    };
    let mut fire = Fire::new(urgency, rationale, evidence);
    fire.add_workup(
        Workup::BasicMetabolicPanel,
        "Basic metabolic panel: sodium, potassium, calcium, creatinine/eGFR.",
    );
    fire.add_workup(
        Workup::Magnesium,
        "Magnesium, ordered separately: neither the basic nor the comprehensive panel includes it.",
    );
    if phosphate {
        fire.add_workup(
            Workup::Phosphate,
            "Phosphate, ordered separately from the panel.",
        );
    }
    if calcium_low {
        fire.add_workup(
            Workup::Calcium,
            "Albumin-adjusted or ionized calcium to confirm a low total calcium.",
        );
        fire.add_workup(Workup::VitaminD, "25-OH vitamin D with a low calcium.");
    }
    out.fire(fire);
}

/// Dehydration's early signs in seed A (dark urine, dry mouth, thirst, dizziness on standing), and
/// a dehydrating illness with kidney-injury risk (g.6, NICE NG148 [S36]).
pub(crate) const DEHYDRATION: Rule = Rule {
    meta: RuleMeta {
        id: "metabolic.dehydration_signs",
        version: "2.0.0",
        title: "Signs of dehydration",
        flag: Flag::DehydrationSigns,
        rationale: "Dark-yellow urine, a dry mouth, thirst or dizziness on standing are early signs of dehydration, a common contributor to cramps; fluids through the day usually correct it. After vomiting, diarrhoea or heavy sweating, signs of volume depletion in a person aged 65 or over or taking a diuretic, ACE inhibitor, ARB or NSAID put the kidneys at risk: same-day creatinine and electrolytes, magnesium, and a sick-day medication review (NICE NG148).",
        inputs: &[
            "symptoms.urine_color",
            "symptoms.dry_mouth",
            "symptoms.thirst",
            "symptoms.dizziness_on_standing",
            "symptoms.reduced_urine_output",
            "lifestyle.daily_fluid_liters",
            "conditions.recent_vomiting_or_diarrhea",
            "lifestyle.hot_environment_or_heavy_sweating",
            "patient.age_years",
            "medications",
        ],
        citations: &[S36, S1, S2, S26],
        codings: &[],
        max_urgency: Urgency::Urgent,
    },
    eval: dehydration,
};

fn dehydration(f: &Facts<'_>, out: &mut RuleOut) {
    let s = &f.h.symptoms;
    let mut evidence = trues(&[
        ("symptoms.dry_mouth", s.dry_mouth),
        ("symptoms.thirst", s.thirst),
        ("symptoms.dizziness_on_standing", s.dizziness_on_standing),
        ("symptoms.reduced_urine_output", s.reduced_urine_output),
    ]);
    let dark = s.urine_color == Some(UrineColor::DarkYellow);
    if dark {
        evidence.push(ev_val(
            "symptoms.urine_color",
            UrineColor::DarkYellow.name(),
        ));
    }
    if evidence.is_empty() {
        return;
    }
    // g.6: signs of volume depletion, after a dehydrating illness, in a person at risk of AKI.
    let depleted = yes(s.dizziness_on_standing)
        || yes(s.reduced_urine_output)
        || dark
        || (yes(s.dry_mouth) && yes(s.thirst));
    let illness = trues(&[
        (
            "conditions.recent_vomiting_or_diarrhea",
            f.h.conditions.recent_vomiting_or_diarrhea,
        ),
        (
            "lifestyle.hot_environment_or_heavy_sweating",
            f.h.lifestyle.hot_environment_or_heavy_sweating,
        ),
    ]);
    let aged = f.age() >= AKI_RISK_AGE;
    let medicines = f.aki_risk_medicines();
    if depleted && !illness.is_empty() && (aged || !medicines.is_empty()) {
        evidence.extend(illness);
        if aged {
            evidence.push(ev_val("patient.age_years", f.age()));
        }
        let mut groups: Vec<&str> = Vec::new();
        for (index, group) in &medicines {
            if let Some(m) = f.h.medications.get(*index) {
                evidence.push(Evidence {
                    field: facts::medication_name_field(*index),
                    value: m.name.clone().into(),
                });
            }
            if !groups.contains(group) {
                groups.push(group);
            }
        }
        let mut rationale = String::new();
        if f.prose() {
            rationale = String::from(
                "A dehydrating illness with signs of volume depletion in a person at risk of acute kidney injury",
            );
            let mut risks: Vec<String> = Vec::new();
            if aged {
                risks.push("aged 65 or over".into());
            }
            if !groups.is_empty() {
                risks.push(format!("taking {}", groups.join(", ")));
            }
            rationale.push_str(&format!(
                " ({}): measure creatinine and electrolytes the same day (NICE NG148).",
                risks.join("; ")
            ));
        }
        let mut fire = Fire::new(Urgency::Urgent, rationale, evidence);
        fire.add_workup(
            Workup::BasicMetabolicPanel,
            "Same day: creatinine with sodium and potassium, for acute kidney injury in a dehydrating illness (NICE NG148).",
        );
        fire.add_workup(
            Workup::Magnesium,
            "Magnesium, ordered separately (not in the basic or comprehensive panel); losses in vomiting or diarrhoea lower it.",
        );
        if !medicines.is_empty() {
            fire.add_workup(
                Workup::MedicationReview,
                "Same-day sick-day review of the diuretic, ACE inhibitor, ARB or NSAID with the prescriber or pharmacist; do not change any on your own.",
            );
        }
        out.fire(fire);
        return;
    }
    let rationale = if f.diabetic() && yes(s.thirst) {
        "Early signs of dehydration, a common contributor to cramps. In diabetes, thirst can also mean high blood glucose."
    } else {
        "Early signs of dehydration, a common contributor to cramps."
    };
    out.fire(Fire::new(Urgency::Routine, rationale, evidence));
}

/// Hypothyroid features, proximal weakness or a raised TSH (b.5, S27): TSH with free T4, and CK
/// when muscles are weak or stiff.
pub(crate) const THYROID: Rule = Rule {
    meta: RuleMeta {
        id: "metabolic.thyroid_related",
        version: V1,
        title: "Thyroid-related pattern",
        flag: Flag::ThyroidRelated,
        rationale: "Cold intolerance, weight gain, constipation, muscle stiffness or trouble rising from a chair with cramps suggest an underactive thyroid, which causes cramps, myalgia and sometimes a raised CK. TSH (with free T4) and, with weakness or stiffness, CK check for it.",
        inputs: &[
            "symptoms.cold_intolerance",
            "symptoms.weight_gain",
            "symptoms.constipation",
            "symptoms.muscle_stiffness",
            "symptoms.proximal_weakness",
            "symptoms.persistent_fatigue",
            "conditions.thyroid",
            "findings.labs.tsh_miu_l",
        ],
        citations: &[S27, S32, L18, S1, S2],
        codings: &[],
        max_urgency: Urgency::Soon,
    },
    eval: thyroid,
};

fn thyroid(f: &Facts<'_>, out: &mut RuleOut) {
    let s = &f.h.symptoms;
    let features = trues(&[
        ("symptoms.cold_intolerance", s.cold_intolerance),
        ("symptoms.weight_gain", s.weight_gain),
        ("symptoms.constipation", s.constipation),
        ("symptoms.muscle_stiffness", s.muscle_stiffness),
        ("symptoms.proximal_weakness", s.proximal_weakness),
    ]);
    let known =
        f.h.conditions
            .thyroid
            .filter(|t| matches!(t, Thyroid::Hypo | Thyroid::Hyper));
    let tsh = f.h.findings.labs.tsh_miu_l;
    let tsh_high = tsh.is_some_and(|t| t > TSH_HIGH);
    if features.is_empty() && known.is_none() && !tsh_high {
        return;
    }
    let mut evidence = features;
    evidence.extend(trues(&[(
        "symptoms.persistent_fatigue",
        s.persistent_fatigue,
    )]));
    if let Some(t) = known {
        evidence.push(ev_val("conditions.thyroid", t.name()));
    }
    if let Some(t) = tsh.filter(|_| tsh_high) {
        evidence.push(ev_val("findings.labs.tsh_miu_l", t));
    }
    let weak = yes(s.proximal_weakness);
    let urgency = if weak || tsh_high {
        Urgency::Soon
    } else {
        Urgency::Routine
    };
    let mut fire = Fire::new(
        urgency,
        if tsh_high {
            "TSH above the reference interval with cramps: repeat with free T4 to tell subclinical from overt hypothyroidism."
        } else if weak {
            "Proximal weakness with cramps can be a thyroid myopathy: TSH and CK."
        } else {
            "Features that can come from a thyroid disorder, a known cause of cramps."
        },
        evidence,
    );
    fire.add_workup(Workup::Tsh, "TSH with free T4.");
    if weak || yes(s.muscle_stiffness) || yes(s.generalized_muscle_aches) {
        fire.add_workup(
            Workup::CreatineKinase,
            "CK: hypothyroid myopathy can raise it; weakness needs it measured.",
        );
    }
    if known == Some(Thyroid::Hypo) {
        fire.codings.push(codes::ICD_HYPOTHYROIDISM);
    }
    out.fire(fire);
}

/// Liver disease or heavy alcohol use (b.5: about 60% of people with cirrhosis report cramps).
pub(crate) const LIVER: Rule = Rule {
    meta: RuleMeta {
        id: "metabolic.liver_related",
        version: V1,
        title: "Liver-related cramps",
        flag: Flag::LiverRelated,
        rationale: "Cramps are reported by about 60% of people with cirrhosis; liver disease and heavy alcohol use also lower magnesium. A comprehensive metabolic panel (sodium, potassium, albumin, liver tests) and magnesium check for this.",
        inputs: &["conditions.liver_disease", "conditions.heavy_alcohol_use"],
        citations: &[S13, S32, S2],
        codings: &[],
        max_urgency: Urgency::Routine,
    },
    eval: liver,
};

fn liver(f: &Facts<'_>, out: &mut RuleOut) {
    let c = &f.h.conditions;
    let evidence = trues(&[
        ("conditions.liver_disease", c.liver_disease),
        ("conditions.heavy_alcohol_use", c.heavy_alcohol_use),
    ]);
    if evidence.is_empty() {
        return;
    }
    out.fire(
        Fire::new(
            Urgency::Routine,
            "Liver disease or heavy alcohol use: both are linked to cramps and to low magnesium.",
            evidence,
        )
        .workup(
            Workup::ComprehensiveMetabolicPanel,
            "Comprehensive metabolic panel: sodium, potassium, albumin and liver tests.",
        )
        .workup(
            Workup::Magnesium,
            "Magnesium, ordered separately from the panel.",
        ),
    );
}

/// Vitamin D deficiency risk (b.5 trigger table; L19-L21): limited sun, CKD or low calcium, or a
/// low 25-OH D result.
pub(crate) const VITAMIN_D: Rule = Rule {
    meta: RuleMeta {
        id: "metabolic.vitamin_d_deficiency_risk",
        version: V1,
        title: "Vitamin D deficiency risk",
        flag: Flag::VitaminDDeficiencyRisk,
        rationale: "Limited sun exposure, kidney disease or a low calcium raise the risk of vitamin D deficiency, which lowers calcium. A 25-OH vitamin D level is reasonable with these; routine testing without a reason is not advised.",
        inputs: &[
            "lifestyle.limited_sun_exposure",
            "conditions.chronic_kidney_disease",
            "findings.labs.calcium_mg_dl",
            "findings.labs.vitamin_d_ng_ml",
        ],
        citations: &[L19, L21, S1, S2],
        codings: &[],
        max_urgency: Urgency::Soon,
    },
    eval: vitamin_d,
};

fn vitamin_d(f: &Facts<'_>, out: &mut RuleOut) {
    let mut evidence = trues(&[(
        "lifestyle.limited_sun_exposure",
        f.h.lifestyle.limited_sun_exposure,
    )]);
    if f.known_ckd() {
        evidence.push(ev("conditions.chronic_kidney_disease"));
    }
    if let Some(ca) = f.h.findings.labs.calcium_mg_dl.filter(|c| *c < CA_LOW) {
        evidence.push(ev_val("findings.labs.calcium_mg_dl", ca));
    }
    let level = f.h.findings.labs.vitamin_d_ng_ml;
    let (urgency, why) = match level {
        Some(d) if d < VITD_AT_RISK => (
            Urgency::Soon,
            "25-OH vitamin D below 12 ng/mL: at risk of deficiency; check calcium.",
        ),
        Some(d) if d < VITD_ADEQUATE => (
            Urgency::Routine,
            "25-OH vitamin D 12-19 ng/mL: some people are at risk of inadequacy.",
        ),
        Some(d) if d > VITD_CONCERN => (
            Urgency::Routine,
            "25-OH vitamin D above 50 ng/mL: a level of concern, not of proven toxicity; review supplements.",
        ),
        Some(_) => {
            return; // adequate, and the measurement answers the risk question
        }
        None if evidence.is_empty() => return,
        None => (
            Urgency::Routine,
            "Risk factors for vitamin D deficiency, which lowers calcium.",
        ),
    };
    if let Some(d) = level {
        evidence.push(ev_val("findings.labs.vitamin_d_ng_ml", d));
    }
    let mut fire = Fire::new(urgency, why, evidence);
    if level.is_none() {
        fire.add_workup(
            Workup::VitaminD,
            "25-OH vitamin D, justified by the risk factors given.",
        );
    } else if urgency == Urgency::Soon {
        fire.add_workup(
            Workup::Calcium,
            "Calcium with a vitamin D level below 12 ng/mL.",
        );
    }
    out.fire(fire);
}
