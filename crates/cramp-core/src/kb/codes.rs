//! Codes from clinical-reference.md section (d) that may be shipped.
//!
//! Only codes marked VERIFIED or VERIFIED-2° there appear here; UNVERIFIED ones (for example
//! I74.3, I26.99, N18.30-N18.32, Z99.2, CPT 72148, 84443) are deliberately absent until checked
//! against the owner's release. `kb::validate` tests keep it that way.

use crate::output::Coding;

/// LOINC code system URI.
pub const LOINC: &str = "http://loinc.org";
/// AMA CPT code system URI.
pub const CPT: &str = "http://www.ama-assn.org/go/cpt";
/// ICD-10-CM code system URI.
pub const ICD10CM: &str = "http://hl7.org/fhir/sid/icd-10-cm";
/// SNOMED CT code system URI.
pub const SNOMED: &str = "http://snomed.info/sct";
/// WHO ATC code system URI.
pub const ATC: &str = "http://www.whocc.no/atc";

const fn c(system: &'static str, code: &'static str, display: &'static str) -> Coding {
    Coding {
        system,
        code,
        display,
    }
}

// d.1 LOINC
pub(crate) const LOINC_BMP: Coding = c(
    LOINC,
    "24321-2",
    "Basic metabolic 2000 panel - Serum or Plasma",
);
pub(crate) const LOINC_CMP: Coding = c(
    LOINC,
    "24323-8",
    "Comprehensive metabolic 2000 panel - Serum or Plasma",
);
pub(crate) const LOINC_MG: Coding = c(
    LOINC,
    "19123-9",
    "Magnesium [Mass/volume] in Serum or Plasma",
);
pub(crate) const LOINC_CA: Coding = c(LOINC, "17861-6", "Calcium [Mass/volume] in Serum or Plasma");
pub(crate) const LOINC_CA_ION: Coding = c(
    LOINC,
    "1995-0",
    "Calcium.ionized [Moles/volume] in Serum or Plasma",
);
pub(crate) const LOINC_PHOS: Coding = c(
    LOINC,
    "2777-1",
    "Phosphate [Mass/volume] in Serum or Plasma",
);
pub(crate) const LOINC_CREAT: Coding = c(
    LOINC,
    "2160-0",
    "Creatinine [Mass/volume] in Serum or Plasma",
);
pub(crate) const LOINC_EGFR: Coding = c(
    LOINC,
    "98979-8",
    "Glomerular filtration rate/1.73 sq M.predicted by Creatinine-based formula (CKD-EPI 2021)",
);
pub(crate) const LOINC_UACR: Coding =
    c(LOINC, "9318-7", "Albumin/Creatinine [Mass Ratio] in Urine");
pub(crate) const LOINC_UA: Coding = c(
    LOINC,
    "24357-6",
    "Urinalysis macro (dipstick) panel - Urine",
);
pub(crate) const LOINC_CK: Coding = c(
    LOINC,
    "2157-6",
    "Creatine kinase [Enzymatic activity/volume] in Serum or Plasma",
);
pub(crate) const LOINC_TSH: Coding = c(
    LOINC,
    "3016-3",
    "Thyrotropin [Units/volume] in Serum or Plasma",
);
pub(crate) const LOINC_FT4: Coding = c(
    LOINC,
    "3024-7",
    "Thyroxine (T4) free [Mass/volume] in Serum or Plasma",
);
pub(crate) const LOINC_HBA1C: Coding =
    c(LOINC, "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood");
pub(crate) const LOINC_B12: Coding = c(
    LOINC,
    "2132-9",
    "Cobalamin (Vitamin B12) [Mass/volume] in Serum or Plasma",
);
pub(crate) const LOINC_VITD: Coding = c(
    LOINC,
    "62292-8",
    "25-hydroxyvitamin D2+D3 [Mass/volume] in Serum or Plasma",
);
pub(crate) const LOINC_DDIMER: Coding = c(
    LOINC,
    "48065-7",
    "Fibrin D-dimer FEU [Mass/volume] in Platelet poor plasma",
);
pub(crate) const LOINC_CBC: Coding = c(LOINC, "58410-2", "CBC panel - Blood by Automated count");

// d.2 CPT (VERIFIED-2°)
pub(crate) const CPT_ABI: Coding = c(
    CPT,
    "93922",
    "Limited bilateral noninvasive physiologic study of lower extremity arteries",
);
pub(crate) const CPT_EXERCISE_ABI: Coding = c(
    CPT,
    "93924",
    "Noninvasive physiologic study of lower extremity arteries at rest and following treadmill stress",
);
pub(crate) const CPT_ART_DUPLEX: Coding = c(
    CPT,
    "93925",
    "Duplex scan of lower extremity arteries or arterial bypass grafts; complete bilateral",
);
pub(crate) const CPT_VEN_DUPLEX_BILAT: Coding = c(
    CPT,
    "93970",
    "Duplex scan of extremity veins; complete bilateral study",
);
pub(crate) const CPT_VEN_DUPLEX_UNI: Coding = c(
    CPT,
    "93971",
    "Duplex scan of extremity veins; unilateral or limited study",
);
pub(crate) const CPT_BMP: Coding = c(CPT, "80048", "Basic metabolic panel");
pub(crate) const CPT_CMP: Coding = c(CPT, "80053", "Comprehensive metabolic panel");
pub(crate) const CPT_MG: Coding = c(CPT, "83735", "Magnesium");
pub(crate) const CPT_CK: Coding = c(CPT, "82550", "Creatine kinase (CK), (CPK); total");
pub(crate) const CPT_VITD: Coding = c(CPT, "82306", "Vitamin D; 25 hydroxy");
pub(crate) const CPT_B12: Coding = c(CPT, "82607", "Cyanocobalamin (Vitamin B-12)");
pub(crate) const CPT_DDIMER: Coding = c(
    CPT,
    "85379",
    "Fibrin degradation products, D-dimer; quantitative",
);

// d.3 ICD-10-CM (VERIFIED-2°)
pub(crate) const ICD_CRAMP: Coding = c(ICD10CM, "R25.2", "Cramp and spasm");
pub(crate) const ICD_SLEEP_LEG_CRAMPS: Coding = c(ICD10CM, "G47.62", "Sleep related leg cramps");
pub(crate) const ICD_CALF_SPASM: Coding = c(ICD10CM, "M62.831", "Muscle spasm of calf");
pub(crate) const ICD_PVD: Coding = c(ICD10CM, "I73.9", "Peripheral vascular disease, unspecified");
pub(crate) const ICD_T2DM_POLYNEUROPATHY: Coding = c(
    ICD10CM,
    "E11.42",
    "Type 2 diabetes mellitus with diabetic polyneuropathy",
);
pub(crate) const ICD_CKD1: Coding = c(ICD10CM, "N18.1", "Chronic kidney disease, stage 1");
pub(crate) const ICD_CKD2: Coding = c(ICD10CM, "N18.2", "Chronic kidney disease, stage 2 (mild)");
pub(crate) const ICD_CKD4: Coding = c(ICD10CM, "N18.4", "Chronic kidney disease, stage 4 (severe)");
pub(crate) const ICD_CKD5: Coding = c(ICD10CM, "N18.5", "Chronic kidney disease, stage 5");
pub(crate) const ICD_ESRD: Coding = c(ICD10CM, "N18.6", "End stage renal disease");
pub(crate) const ICD_HYPOKALEMIA: Coding = c(ICD10CM, "E87.6", "Hypokalemia");
pub(crate) const ICD_HYPOMAGNESEMIA: Coding = c(ICD10CM, "E83.42", "Hypomagnesemia");
pub(crate) const ICD_HYPOCALCEMIA: Coding = c(ICD10CM, "E83.51", "Hypocalcemia");
pub(crate) const ICD_HYPOTHYROIDISM: Coding = c(ICD10CM, "E03.9", "Hypothyroidism, unspecified");
pub(crate) const ICD_RHABDO: Coding = c(ICD10CM, "M62.82", "Rhabdomyolysis");
pub(crate) const ICD_DVT_RIGHT: Coding = c(
    ICD10CM,
    "I82.401",
    "Acute embolism and thrombosis of unspecified deep veins of right lower extremity",
);
pub(crate) const ICD_DVT_LEFT: Coding = c(
    ICD10CM,
    "I82.402",
    "Acute embolism and thrombosis of unspecified deep veins of left lower extremity",
);
pub(crate) const ICD_CAUDA_EQUINA: Coding = c(ICD10CM, "G83.4", "Cauda equina syndrome");
pub(crate) const ICD_STENOSIS_NEUROGENIC: Coding = c(
    ICD10CM,
    "M48.062",
    "Spinal stenosis, lumbar region with neurogenic claudication",
);

// d.4 SNOMED CT (VERIFIED-2°)
pub(crate) const SCT_PAD: Coding = c(SNOMED, "399957001", "Peripheral arterial occlusive disease");
pub(crate) const SCT_CLAUDICATION: Coding = c(SNOMED, "63491006", "Intermittent claudication");
pub(crate) const SCT_DIABETIC_NEUROPATHY: Coding =
    c(SNOMED, "230572002", "Neuropathy due to diabetes mellitus");
pub(crate) const SCT_CKD: Coding = c(SNOMED, "709044004", "Chronic kidney disease");
pub(crate) const SCT_ESRD: Coding = c(SNOMED, "46177005", "End-stage renal disease");
pub(crate) const SCT_DVT: Coding = c(SNOMED, "128053003", "Deep venous thrombosis");
pub(crate) const SCT_PE: Coding = c(SNOMED, "59282003", "Pulmonary embolism");

// b.4 ATC (VERIFIED: WHO-ATC entries in openFDA/GSRS)
pub(crate) const ATC_HCTZ: Coding = c(ATC, "C03AA03", "hydrochlorothiazide");
pub(crate) const ATC_CHLORTALIDONE: Coding = c(ATC, "C03BA04", "chlortalidone");
pub(crate) const ATC_FUROSEMIDE: Coding = c(ATC, "C03CA01", "furosemide");
pub(crate) const ATC_BUMETANIDE: Coding = c(ATC, "C03CA02", "bumetanide");
pub(crate) const ATC_SPIRONOLACTONE: Coding = c(ATC, "C03DA01", "spironolactone");
pub(crate) const ATC_SIMVASTATIN: Coding = c(ATC, "C10AA01", "simvastatin");
pub(crate) const ATC_SALMETEROL: Coding = c(ATC, "R03AC12", "salmeterol");

/// Every code above, for the knowledge-base self-check.
pub(crate) const ALL: &[Coding] = &[
    LOINC_BMP,
    LOINC_CMP,
    LOINC_MG,
    LOINC_CA,
    LOINC_CA_ION,
    LOINC_PHOS,
    LOINC_CREAT,
    LOINC_EGFR,
    LOINC_UACR,
    LOINC_UA,
    LOINC_CK,
    LOINC_TSH,
    LOINC_FT4,
    LOINC_HBA1C,
    LOINC_B12,
    LOINC_VITD,
    LOINC_DDIMER,
    LOINC_CBC,
    CPT_ABI,
    CPT_EXERCISE_ABI,
    CPT_ART_DUPLEX,
    CPT_VEN_DUPLEX_BILAT,
    CPT_VEN_DUPLEX_UNI,
    CPT_BMP,
    CPT_CMP,
    CPT_MG,
    CPT_CK,
    CPT_VITD,
    CPT_B12,
    CPT_DDIMER,
    ICD_CRAMP,
    ICD_SLEEP_LEG_CRAMPS,
    ICD_CALF_SPASM,
    ICD_PVD,
    ICD_T2DM_POLYNEUROPATHY,
    ICD_CKD1,
    ICD_CKD2,
    ICD_CKD4,
    ICD_CKD5,
    ICD_ESRD,
    ICD_HYPOKALEMIA,
    ICD_HYPOMAGNESEMIA,
    ICD_HYPOCALCEMIA,
    ICD_HYPOTHYROIDISM,
    ICD_RHABDO,
    ICD_DVT_RIGHT,
    ICD_DVT_LEFT,
    ICD_CAUDA_EQUINA,
    ICD_STENOSIS_NEUROGENIC,
    SCT_PAD,
    SCT_CLAUDICATION,
    SCT_DIABETIC_NEUROPATHY,
    SCT_CKD,
    SCT_ESRD,
    SCT_DVT,
    SCT_PE,
    ATC_HCTZ,
    ATC_CHLORTALIDONE,
    ATC_FUROSEMIDE,
    ATC_BUMETANIDE,
    ATC_SPIRONOLACTONE,
    ATC_SIMVASTATIN,
    ATC_SALMETEROL,
];

/// Codes the reference marks UNVERIFIED: never shipped, and never read as meaning anything. Adapters
/// that map external codes test their own tables against it.
pub const UNVERIFIED: &[&str] = &[
    "I74.3", "I26.99", "N18.30", "N18.31", "N18.32", "Z99.2", "E10.42", "E11.51", "I70.211",
    "I70.212", "I70.219", "I82.403", "I82.409", "M79.A2", "G72.0", "T46.6X5A", "E53.8", "55300003",
    "72148", "84443", "83036", "82565", "82043", "82570", "84100", "82310", "84132", "98980-6",
    "33863-2", "48066-5", "C03BA11", "C03CA04", "C03DA04", "C10AA05", "C10AA07", "R03AC13",
    "C03DB01", "C03DB02", "A02BC01", "G03XC01", "H05AA02", "G03CA57", "M01AE02",
];
