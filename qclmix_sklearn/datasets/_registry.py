"""The 18 benchmark datasets of the QCL-MixNet paper (Table 1), in the paper's order."""

from dataclasses import dataclass

from . import _feature_names as names
from . import _sources as src
from ._download import openml, zenodo

KEEL_CITATION = (
    "J. Alcala-Fdez, A. Fernandez, J. Luengo, J. Derrac, S. Garcia, L. Sanchez, F. Herrera, "
    "KEEL Data-Mining Software Tool: Data Set Repository, Integration of Algorithms and "
    "Experimental Analysis Framework, J. Multiple-Valued Logic and Soft Computing 17:255-287, 2011"
)
IMBLEARN_CITATION = (
    "G. Lemaitre, F. Nogueira, C. K. Aridas, Imbalanced-learn: A Python Toolbox to Tackle the Curse "
    "of Imbalanced Datasets in Machine Learning, JMLR 18(17):1-5, 2017"
)
PAPER_FEATURES_NOTE = "the paper's feature count includes the label column"


@dataclass(frozen=True)
class Benchmark:
    """One row of the paper's Table 1 and where its data can be found.

    ``positive`` holds the original labels forming class 1 of a binary task.
    ``sources`` are tried in order without any network access; ``remote``
    reads its own cache offline and downloads only when asked to.
    ``paper`` is Table 1 as printed; ``notes`` explain every known difference.
    """

    name: str
    task: str
    paper: tuple  # (n_samples, n_features, n_classes, imbalance_ratio) as printed in Table 1
    sources: tuple
    remote: object
    data_home_files: tuple
    origin: str
    citation: str
    positive: tuple = None
    notes: tuple = ()


def _b(name, task, paper, sources, remote, files, origin, citation, positive=None, notes=()):
    return Benchmark(name, task, paper, tuple(sources), remote, tuple(files), origin, citation, positive, tuple(notes))


BENCHMARKS = [
    _b("ecoli", "imU vs rest", (336, 7, 2, 8.71), [src.keel_binary("ecoli3", names.ECOLI)], zenodo("ecoli"), [],
       "UCI Ecoli; KEEL ecoli3 = imU vs rest",
       "K. Nakai, M. Kanehisa, A Knowledge Base for Predicting Protein Localization Sites in Eukaryotic "
       "Cells, Genomics 14(4):897-911, 1992; " + KEEL_CITATION,
       notes=["imbalance ratio 301/35 = 8.60 (imbalanced-learn also lists 8.6); the paper prints 8.71"]),
    _b("optical_digits", "8 vs rest", (5620, 64, 2, 9.13), [src.keel_table("optdigits", names.OPTDIGITS)],
       zenodo("optical_digits"), [], "UCI Optical Recognition of Handwritten Digits (train + test), via KEEL",
       "E. Alpaydin, C. Kaynak, Optical Recognition of Handwritten Digits, UCI Machine Learning Repository, 1998",
       positive=(8,), notes=["imbalance ratio 5066/554 = 9.14; the paper prints 9.13"]),
    _b("satimage_binary", "4 vs rest", (6435, 36, 2, 9.30),
       [src.keel_table("satimage", names.SATIMAGE), src.satimage_uci], zenodo("satimage"), [],
       "UCI Statlog (Landsat Satellite) (train + test); class 4 = damp grey soil",
       "A. Srinivasan, Statlog (Landsat Satellite), UCI Machine Learning Repository, 1993",
       positive=(4,), notes=["imbalance ratio 5809/626 = 9.28; the paper prints 9.30"]),
    _b("pen_digits", "5 vs rest", (10992, 16, 2, 9.42), [src.keel_table("penbased", names.PENDIGITS)],
       zenodo("pen_digits"), [], "UCI Pen-Based Recognition of Handwritten Digits (train + test), via KEEL",
       "F. Alimoglu, E. Alpaydin, Pen-Based Recognition of Handwritten Digits, UCI Machine Learning Repository, 1996",
       positive=(5,)),
    _b("abalone", "rings 7 vs rest", (4177, 10, 2, 9.72), [src.abalone_rings7], zenodo("abalone"), [],
       "UCI Abalone; label rebuilt from KEEL's abalone splits",
       "W. J. Nash, T. L. Sellers, S. R. Talbot, A. J. Cawthorn, W. B. Ford, The Population Biology of "
       "Abalone (Haliotis species) in Tasmania, Sea Fisheries Division Technical Report 48, 1994; " + KEEL_CITATION,
       notes=["KEEL's abalone has 4174 of UCI's 4177 rows (one with rings 7 and one with rings 8 are "
              "among the 3 missing): 390 positives vs UCI's 391, imbalance ratio 3784/390 = 9.70 "
              "(imbalanced-learn's 4177-row version: 3786/391 = 9.68); the paper prints 4177 rows and 9.72",
              "rebuilt rings counts equal UCI's for rings 3, 9, 10, 11, 17-21 and are one short for 7 and 8"]),
    _b("isolet", "A,B vs rest", (7797, 617, 2, 12.00), [src.isolet_files], zenodo("isolet"),
       ["isolet/isolet1+2+3+4.data", "isolet/isolet5.data"], "UCI ISOLET (all 7797 rows); classes 1, 2 = A, B",
       "R. Cole, M. Fanty, ISOLET, UCI Machine Learning Repository, 1991", positive=(1, 2)),
    _b("arrhythmia", "class 6 vs rest", (452, 278, 2, 17.20), [src.arrhythmia_file], zenodo("arrhythmia"),
       ["arrhythmia/arrhythmia.data"], "UCI Arrhythmia; class 6 = sinus bradycardy",
       "H. A. Guvenir, B. Acar, G. Demiroz, A. Cekin, A Supervised Machine Learning Algorithm for Arrhythmia "
       "Analysis, Proc. Computers in Cardiology, 1997", positive=(6,),
       notes=["279 features (all of UCI's, 408 missing cells kept as NaN, 376 of them in attribute J); the "
              "paper and imbalanced-learn list 278",
              "imbalance ratio 427/25 = 17.08; the paper prints 17.20"]),
    _b("minerals", "multiclass", (3112, 140, 7, 95.20), [src.minerals_file], None, ["minerals/minerals.csv"],
       "unknown: the paper gives no source and no public copy with 3112 rows x 140 features was identified",
       "unknown", notes=["no known public source; put a CSV (header row, label in the last column) in the data home"]),
    _b("vehicle", "multiclass", (846, 19, 4, 1.10), [src.keel_table("vehicle", names.VEHICLE), src.vehicle_uci],
       openml(54, "vehicle"), [], "UCI Statlog (Vehicle Silhouettes)",
       "J. P. Siebert, Vehicle Recognition Using Rule Based Methods, Turing Institute Research Memorandum "
       "TIRM-87-018, 1987", notes=["18 features: " + PAPER_FEATURES_NOTE]),
    _b("satimage", "multiclass", (6430, 37, 6, 2.45), [src.keel_table("satimage", names.SATIMAGE), src.satimage_uci],
       openml(182, "satimage"), [], "UCI Statlog (Landsat Satellite) (train + test)",
       "A. Srinivasan, Statlog (Landsat Satellite), UCI Machine Learning Repository, 1993",
       notes=["6435 rows (UCI, KEEL); the paper's 6430 is OpenML's copy (id 182)",
              "36 features: " + PAPER_FEATURES_NOTE]),
    _b("har", "multiclass", (10299, 562, 6, 1.38), [src.har_files], openml(1478, "har"),
       ["har/UCI HAR Dataset/train/X_train.txt", "har/UCI HAR Dataset/train/y_train.txt",
        "har/UCI HAR Dataset/test/X_test.txt", "har/UCI HAR Dataset/test/y_test.txt"],
       "UCI Human Activity Recognition Using Smartphones (train + test)",
       "D. Anguita, A. Ghio, L. Oneto, X. Parra, J. L. Reyes-Ortiz, A Public Domain Dataset for Human "
       "Activity Recognition Using Smartphones, ESANN 2013", notes=["561 features: " + PAPER_FEATURES_NOTE]),
    _b("wine_quality_red", "multiclass", (1599, 12, 6, 68.00), [src.wine_red_rebuilt, src.wine_file("red")],
       openml(40691, "wine_quality_red"), ["wine-quality-red/winequality-red.csv"],
       "UCI Wine Quality (red); labels rebuilt from KEEL's red-wine splits",
       "P. Cortez, A. Cerdeira, F. Almeida, T. Matos, J. Reis, Modeling wine preferences by data mining "
       "from physicochemical properties, Decision Support Systems 47(4):547-553, 2009",
       notes=["11 features: " + PAPER_FEATURES_NOTE, "imbalance ratio 681/10 = 68.1",
              "rebuilt quality counts equal UCI's: 3:10, 4:53, 5:681, 6:638, 7:199, 8:18"]),
    _b("lymph", "multiclass", (148, 19, 4, 17.00), [src.lymph_file], openml(10, "lymph"),
       ["lymphography/lymphography.data"], "UCI Lymphography",
       "M. Zwitter, M. Soklic, Lymphography, University Medical Centre, Institute of Oncology, Ljubljana; "
       "UCI Machine Learning Repository, 1988",
       notes=["18 features: " + PAPER_FEATURES_NOTE,
              "imbalance ratio 81/2 = 40.5 (classes 2:81, 3:61, 4:4, 1:2); the paper prints 17.00"]),
    _b("one_hundred_plants_texture", "multiclass", (1599, 65, 100, 1.33), [src.plants_texture_file],
       openml(1493, "one_hundred_plants_texture"), ["one-hundred-plants-texture/data_Tex_64.txt"],
       "UCI One-hundred plant species leaves, texture features",
       "C. Mallah, J. Cope, J. Orwell, Plant Leaf Classification Using Probabilistic Integration of Shape, "
       "Texture and Margin Features, Signal Processing, Pattern Recognition and Applications, 2013",
       notes=["64 features: " + PAPER_FEATURES_NOTE,
              "imbalance ratio 16/15 = 1.07 (99 classes of 16 rows, one of 15); the paper prints 1.33"]),
    _b("balance_scale", "multiclass", (625, 5, 3, 5.80), [src.balance_scale], None, [],
       "UCI Balance Scale (generated exactly: the data set is the full enumeration)",
       "R. S. Siegler, Three Aspects of Cognitive Development, Cognitive Psychology 8:481-520, 1976",
       notes=["4 features: " + PAPER_FEATURES_NOTE,
              "imbalance ratio 288/49 = 5.88 (L:288, R:288, B:49); the paper prints 5.80"]),
    _b("wine_quality_white", "multiclass", (4898, 12, 7, 440.00), [src.wine_file("white")],
       openml(40498, "wine_quality_white"), ["wine-quality-white/winequality-white.csv"],
       "UCI Wine Quality (white)",
       "P. Cortez, A. Cerdeira, F. Almeida, T. Matos, J. Reis, Modeling wine preferences by data mining "
       "from physicochemical properties, Decision Support Systems 47(4):547-553, 2009",
       notes=["11 features: " + PAPER_FEATURES_NOTE, "imbalance ratio 2198/5 = 439.6"]),
    _b("letter", "multiclass", (20000, 17, 26, 1.11), [src.keel_table("letter", names.LETTER)],
       openml(6, "letter"), [], "UCI Letter Recognition, via KEEL",
       "P. W. Frey, D. J. Slate, Letter Recognition Using Holland-style Adaptive Classifiers, "
       "Machine Learning 6(2):161-182, 1991", notes=["16 features: " + PAPER_FEATURES_NOTE]),
    _b("glass", "multiclass", (214, 10, 6, 7.50), [src.glass_uci], openml(41, "glass"), [],
       "UCI Glass Identification",
       "B. German, Glass Identification, UCI Machine Learning Repository, 1987",
       notes=["9 features: " + PAPER_FEATURES_NOTE,
              "imbalance ratio 76/9 = 8.44 (classes 1:70, 2:76, 3:17, 5:13, 6:9, 7:29); the paper prints 7.50"]),
]

BENCHMARKS_BY_NAME = {benchmark.name: benchmark for benchmark in BENCHMARKS}
