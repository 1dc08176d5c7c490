//! The output vocabulary: the [`Assessment`] every door returns, as `outputs.md` defines it.
//!
//! Output types are plain data with deterministic order; adapters translate them, they never
//! compute. Evidence values and medication names are patient data, so `Debug` here shows codes and
//! counts only.

use std::borrow::Cow;
use std::fmt;

use crate::input::UnreadInput;
use crate::names::named_enum;

named_enum! {
    /// Overall disposition. `Ord` follows declaration order, so the most urgent sorts first.
    pub enum Urgency {
        /// Emergency services / emergency department now.
        Emergency = "URGENCY_EMERGENCY",
        /// Same day, within 24 hours.
        Urgent = "URGENCY_URGENT",
        /// Days to two weeks.
        Soon = "URGENCY_SOON",
        /// Next planned visit.
        Routine = "URGENCY_ROUTINE",
        /// No visit needed; self-care and what to watch for.
        SelfCare = "URGENCY_SELF_CARE",
    }
}

named_enum! {
    /// A risk pattern, in catalog order. Worded as a pattern, never a diagnosis.
    pub enum Flag {
        DvtSuspected = "FLAG_DVT_SUSPECTED",
        PeSuspected = "FLAG_PE_SUSPECTED",
        AcuteLimbIschemia = "FLAG_ACUTE_LIMB_ISCHEMIA",
        CriticalLimbIschemia = "FLAG_CRITICAL_LIMB_ISCHEMIA",
        RhabdomyolysisSuspected = "FLAG_RHABDOMYOLYSIS_SUSPECTED",
        CompartmentSyndromeSuspected = "FLAG_COMPARTMENT_SYNDROME_SUSPECTED",
        CaudaEquinaSuspected = "FLAG_CAUDA_EQUINA_SUSPECTED",
        AcuteNeurologicDeficit = "FLAG_ACUTE_NEUROLOGIC_DEFICIT",
        SevereElectrolyteDisturbance = "FLAG_SEVERE_ELECTROLYTE_DISTURBANCE",
        SkinInfectionSuspected = "FLAG_SKIN_INFECTION_SUSPECTED",
        HeatIllnessOrSevereDehydration = "FLAG_HEAT_ILLNESS_OR_SEVERE_DEHYDRATION",
        PadPattern = "FLAG_PAD_PATTERN",
        PadRiskProfile = "FLAG_PAD_RISK_PROFILE",
        NeurogenicClaudication = "FLAG_NEUROGENIC_CLAUDICATION",
        PeripheralNeuropathy = "FLAG_PERIPHERAL_NEUROPATHY",
        KidneyDiseaseSigns = "FLAG_KIDNEY_DISEASE_SIGNS",
        DialysisAssociated = "FLAG_DIALYSIS_ASSOCIATED",
        MedicationAssociated = "FLAG_MEDICATION_ASSOCIATED",
        StatinMuscleSymptoms = "FLAG_STATIN_MUSCLE_SYMPTOMS",
        ElectrolyteImbalanceRisk = "FLAG_ELECTROLYTE_IMBALANCE_RISK",
        DehydrationSigns = "FLAG_DEHYDRATION_SIGNS",
        ThyroidRelated = "FLAG_THYROID_RELATED",
        LiverRelated = "FLAG_LIVER_RELATED",
        PregnancyAssociated = "FLAG_PREGNANCY_ASSOCIATED",
        VitaminDDeficiencyRisk = "FLAG_VITAMIN_D_DEFICIENCY_RISK",
        DisruptiveCramps = "FLAG_DISRUPTIVE_CRAMPS",
        BenignNocturnalCramps = "FLAG_BENIGN_NOCTURNAL_CRAMPS",
        ExerciseAssociatedCramps = "FLAG_EXERCISE_ASSOCIATED_CRAMPS",
        PosturalOrSedentaryTriggers = "FLAG_POSTURAL_OR_SEDENTARY_TRIGGERS",
        NeuromuscularWeakness = "FLAG_NEUROMUSCULAR_WEAKNESS",
    }
}

impl Flag {
    /// Red flags (outputs.md): emergency or urgent patterns that override every benign label.
    #[must_use]
    pub const fn is_red_flag(self) -> bool {
        matches!(
            self,
            Self::DvtSuspected
                | Self::PeSuspected
                | Self::AcuteLimbIschemia
                | Self::CriticalLimbIschemia
                | Self::RhabdomyolysisSuspected
                | Self::CompartmentSyndromeSuspected
                | Self::CaudaEquinaSuspected
                | Self::AcuteNeurologicDeficit
                | Self::SevereElectrolyteDisturbance
                | Self::SkinInfectionSuspected
                | Self::HeatIllnessOrSevereDehydration
        )
    }

    /// Benign labels (clinical-reference.md e.10): never shown beside a red flag.
    #[must_use]
    pub const fn is_benign(self) -> bool {
        matches!(
            self,
            Self::BenignNocturnalCramps
                | Self::ExerciseAssociatedCramps
                | Self::PosturalOrSedentaryTriggers
        )
    }
}

named_enum! {
    /// A suggested next step, in catalog order.
    pub enum Workup {
        EmergencyCare = "WORKUP_EMERGENCY_CARE",
        VascularReferral = "WORKUP_VASCULAR_REFERRAL",
        MedicationReview = "WORKUP_MEDICATION_REVIEW",
        DialysisPrescriptionReview = "WORKUP_DIALYSIS_PRESCRIPTION_REVIEW",
        AnkleBrachialIndex = "WORKUP_ANKLE_BRACHIAL_INDEX",
        ToeBrachialIndex = "WORKUP_TOE_BRACHIAL_INDEX",
        ExerciseAbi = "WORKUP_EXERCISE_ABI",
        ArterialDuplex = "WORKUP_ARTERIAL_DUPLEX",
        VenousDuplex = "WORKUP_VENOUS_DUPLEX",
        DDimer = "WORKUP_D_DIMER",
        BasicMetabolicPanel = "WORKUP_BASIC_METABOLIC_PANEL",
        ComprehensiveMetabolicPanel = "WORKUP_COMPREHENSIVE_METABOLIC_PANEL",
        Magnesium = "WORKUP_MAGNESIUM",
        Calcium = "WORKUP_CALCIUM",
        Phosphate = "WORKUP_PHOSPHATE",
        KidneyFunction = "WORKUP_KIDNEY_FUNCTION",
        UrineAlbuminCreatinineRatio = "WORKUP_URINE_ALBUMIN_CREATININE_RATIO",
        Urinalysis = "WORKUP_URINALYSIS",
        CreatineKinase = "WORKUP_CREATINE_KINASE",
        Tsh = "WORKUP_TSH",
        Hba1c = "WORKUP_HBA1C",
        VitaminB12 = "WORKUP_VITAMIN_B12",
        VitaminD = "WORKUP_VITAMIN_D",
        LipidPanel = "WORKUP_LIPID_PANEL",
        Cbc = "WORKUP_CBC",
        Ecg = "WORKUP_ECG",
        DiabeticFootExam = "WORKUP_DIABETIC_FOOT_EXAM",
        NerveConductionStudy = "WORKUP_NERVE_CONDUCTION_STUDY",
        LumbarSpineMri = "WORKUP_LUMBAR_SPINE_MRI",
    }
}

named_enum! {
    /// A medication class linked to cramps (for quinine and interacting drugs, a safety note).
    pub enum DrugClass {
        ThiazideDiuretic = "DRUG_CLASS_THIAZIDE_DIURETIC",
        LoopDiuretic = "DRUG_CLASS_LOOP_DIURETIC",
        PotassiumSparingDiuretic = "DRUG_CLASS_POTASSIUM_SPARING_DIURETIC",
        Statin = "DRUG_CLASS_STATIN",
        LongActingBetaAgonist = "DRUG_CLASS_LONG_ACTING_BETA_AGONIST",
        ProtonPumpInhibitor = "DRUG_CLASS_PROTON_PUMP_INHIBITOR",
        Raloxifene = "DRUG_CLASS_RALOXIFENE",
        Estrogen = "DRUG_CLASS_ESTROGEN",
        Teriparatide = "DRUG_CLASS_TERIPARATIDE",
        IntravenousIron = "DRUG_CLASS_INTRAVENOUS_IRON",
        Naproxen = "DRUG_CLASS_NAPROXEN",
        Quinine = "DRUG_CLASS_QUININE",
        OtherReported = "DRUG_CLASS_OTHER_REPORTED",
        StatinInteracting = "DRUG_CLASS_STATIN_INTERACTING",
    }
}

named_enum! {
    /// How a medication was recognised.
    pub enum MedicationMatch {
        Rxnorm = "MEDICATION_MATCH_RXNORM",
        Atc = "MEDICATION_MATCH_ATC",
        Exact = "MEDICATION_MATCH_EXACT",
        Brand = "MEDICATION_MATCH_BRAND",
        Fuzzy = "MEDICATION_MATCH_FUZZY",
    }
}

named_enum! {
    /// How strong the evidence linking a drug class to cramps is; stronger sorts first.
    pub enum EvidenceStrength {
        Strong = "EVIDENCE_STRENGTH_STRONG",
        Moderate = "EVIDENCE_STRENGTH_MODERATE",
        Weak = "EVIDENCE_STRENGTH_WEAK",
    }
}

/// A source behind a rule, keyed as in clinical-reference.md (`S3`, `L7`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Citation {
    /// The reference's key, e.g. `S3`.
    pub key: &'static str,
    /// Authors, title and year as the reference gives them.
    pub title: &'static str,
    /// Journal or publisher, with volume and pages where known.
    pub source: &'static str,
    /// URL, PubMed or DOI link where the reference gives one; empty otherwise (never invented).
    pub url: &'static str,
}

/// A code an EHR can file; only codes the reference does not mark UNVERIFIED are shipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Coding {
    /// Code system URI.
    pub system: &'static str,
    /// The code.
    pub code: &'static str,
    /// Human-readable display.
    pub display: &'static str,
}

/// An input value that made a rule fire.
#[derive(Clone, PartialEq, Eq)]
pub struct Evidence {
    /// Field path from the history root, e.g. `cramps.contexts` or `medications[1].name`.
    pub field: Cow<'static, str>,
    /// The value as given (an enum name, a number, `true`); borrowed when it is a fixed name,
    /// so the usual evidence costs no allocation.
    pub value: Cow<'static, str>,
}

impl fmt::Debug for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The field path is safe to show; the value is a patient answer.
        f.debug_struct("Evidence")
            .field("field", &self.field)
            .finish_non_exhaustive()
    }
}

/// One recognised risk pattern.
#[derive(Clone, Debug, PartialEq)]
pub struct RiskFlag {
    /// Which pattern.
    pub flag: Flag,
    /// How soon this pattern needs care.
    pub urgency: Urgency,
    /// Short title.
    pub title: &'static str,
    /// Plain words, worded as a pattern.
    pub rationale: String,
    /// The inputs that fired it.
    pub evidence: Vec<Evidence>,
    /// Stable rule id.
    pub rule_id: &'static str,
    /// Rule version.
    pub rule_version: &'static str,
    /// Sources.
    pub citations: Vec<Citation>,
    /// Codes for the pattern.
    pub codings: Vec<Coding>,
}

/// A suggested next step, deduplicated across flags.
#[derive(Clone, Debug, PartialEq)]
pub struct SuggestedWorkup {
    /// Which step.
    pub workup: Workup,
    /// How soon: the most urgent of the flags that asked for it.
    pub urgency: Urgency,
    /// Why it is suggested.
    pub rationale: String,
    /// The flags that asked for it, in catalog order.
    pub for_flags: Vec<Flag>,
    /// LOINC for labs, CPT for procedures.
    pub codings: Vec<Coding>,
}

/// A medication on the list that is linked to cramps.
#[derive(Clone, PartialEq)]
pub struct MedicationFinding {
    /// The name as given.
    pub input_name: String,
    /// Normalized generic name.
    pub ingredient: &'static str,
    /// Drug class.
    pub drug_class: DrugClass,
    /// How it was recognised.
    pub match_kind: MedicationMatch,
    /// Strength of the evidence linking the class to cramps.
    pub evidence_strength: EvidenceStrength,
    /// Started within 12 weeks.
    pub recent: bool,
    /// Why it is listed.
    pub rationale: String,
    /// Review with the prescriber; never "stop taking".
    pub advice: &'static str,
    /// Sources.
    pub citations: Vec<Citation>,
    /// RxNorm, ATC.
    pub codings: Vec<Coding>,
}

impl fmt::Debug for MedicationFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MedicationFinding")
            .field("drug_class", &self.drug_class)
            .field("recent", &self.recent)
            .finish_non_exhaustive()
    }
}

/// One piece of self-care advice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SelfCareAdvice {
    /// Stable code, e.g. `SELF_CARE_HYDRATION`.
    pub code: &'static str,
    /// The advice in plain words.
    pub text: &'static str,
    /// How strong the support is.
    pub evidence: &'static str,
}

/// A question whose answer would sharpen the assessment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MissingInformation {
    /// Field path from the history root.
    pub field: &'static str,
    /// The question to ask.
    pub question: &'static str,
    /// What the answer could change.
    pub why: &'static str,
}

/// A red flag the answers neither establish nor exclude (clinical-reference.md g.1): at least one
/// of its specific signs is present and only unknown answers stand between it and firing.
///
/// Kept apart from [`Assessment::flags`] so that no client can mistake it for an established
/// finding, and so that no door can drop it silently.
#[derive(Clone, Debug, PartialEq)]
pub struct PossibleFlag {
    /// The flag as it would fire were the unknown answers "yes": its `urgency` is the urgency it
    /// would carry, its evidence the specific signs present.
    pub risk: RiskFlag,
    /// The unknown field paths whose answers would settle it, most decisive first; they lead
    /// [`Assessment::missing_information`].
    pub settled_by: Vec<&'static str>,
}

/// The assessment of one history.
#[derive(Clone, Debug, PartialEq)]
pub struct Assessment {
    /// The most urgent of any flag (self-care when none fired).
    pub urgency: Urgency,
    /// Which flag set the urgency and why.
    pub urgency_rationale: String,
    /// Most urgent first, then catalog order.
    pub flags: Vec<RiskFlag>,
    /// Recent before long-standing, then by evidence strength.
    pub medication_findings: Vec<MedicationFinding>,
    /// Deduplicated, most urgent first.
    pub workups: Vec<SuggestedWorkup>,
    /// Self-care chosen for this patient, plus what to watch for.
    pub self_care: Vec<SelfCareAdvice>,
    /// What would sharpen the assessment; the fields that settle a possible red flag come first.
    pub missing_information: Vec<MissingInformation>,
    /// Red flags that cannot be excluded (g.1), most urgent first, then catalog order.
    pub possible_flags: Vec<PossibleFlag>,
    /// Inputs the service could not read, echoed from the history: treated as unknown.
    pub unread_inputs: Vec<UnreadInput>,
    /// Semver of the rule set.
    pub knowledge_base_version: &'static str,
}
