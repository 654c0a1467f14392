"""The 18 benchmark datasets of the QCL-MixNet paper (Table 1), in the paper's order."""

from dataclasses import dataclass

from . import _feature_names as names
from . import _sources as src
from ._download import openml, zenodo

KEEL = (
    "J. Alcala-Fdez, A. Fernandez, J. Luengo, J. Derrac, S. Garcia, L. Sanchez, F. Herrera, "
    "KEEL Data-Mining Software Tool: Data Set Repository, Integration of Algorithms and "
    "Experimental Analysis Framework, J. Multiple-Valued Logic and Soft Computing 17:255-287, 2011"
)
UCI = "UCI Machine Learning Repository"
WINE = (
    "P. Cortez, A. Cerdeira, F. Almeida, T. Matos, J. Reis, Modeling wine preferences by data "
    "mining from physicochemical properties, Decision Support Systems 47(4):547-553, 2009"
)
SATIMAGE = f"A. Srinivasan, Statlog (Landsat Satellite), {UCI}, 1993"
LABEL_COLUMN = "the paper's feature count includes the label column"


@dataclass(frozen=True)
class Benchmark:
    """One row of the paper's Table 1 and where its data can be found.

    ``paper`` is Table 1 as printed: (n_samples, n_features, n_classes,
    imbalance ratio). ``positive`` holds the original labels that form class 1
    of a binary task. ``sources`` are tried in order without any network
    access; ``remote`` reads its own cache offline and downloads only when
    asked to. ``data_home_files`` are the files a user can put in the data
    home. ``notes`` explain every known difference from Table 1.
    """

    name: str
    task: str
    paper: tuple
    sources: tuple
    remote: object
    origin: str
    citation: str
    data_home_files: tuple = ()
    positive: tuple = None
    notes: tuple = ()


BENCHMARKS = [
    Benchmark(
        name="ecoli",
        task="imU vs rest",
        paper=(336, 7, 2, 8.71),
        sources=(src.keel_binary("ecoli3", names.ECOLI),),
        remote=zenodo("ecoli"),
        origin="UCI Ecoli; KEEL's ecoli3 is imU vs rest",
        citation="K. Nakai, M. Kanehisa, A Knowledge Base for Predicting Protein Localization "
        f"Sites in Eukaryotic Cells, Genomics 14(4):897-911, 1992; {KEEL}",
        notes=(
            "imbalance ratio 301/35 = 8.60 (imbalanced-learn lists 8.6); the paper prints 8.71",
        ),
    ),
    Benchmark(
        name="optical_digits",
        task="8 vs rest",
        paper=(5620, 64, 2, 9.13),
        sources=(src.keel_table("optdigits", names.OPTDIGITS),),
        remote=zenodo("optical_digits"),
        origin="UCI Optical Recognition of Handwritten Digits (train + test), via KEEL",
        citation=f"E. Alpaydin, C. Kaynak, Optical Recognition of Handwritten Digits, {UCI}, 1998",
        positive=(8,),
        notes=("imbalance ratio 5066/554 = 9.14; the paper prints 9.13",),
    ),
    Benchmark(
        name="satimage_binary",
        task="4 vs rest",
        paper=(6435, 36, 2, 9.30),
        sources=(src.keel_table("satimage", names.SATIMAGE), src.satimage_uci),
        remote=zenodo("satimage"),
        origin="UCI Statlog (Landsat Satellite) (train + test); class 4 = damp grey soil",
        citation=SATIMAGE,
        positive=(4,),
        notes=("imbalance ratio 5809/626 = 9.28; the paper prints 9.30",),
    ),
    Benchmark(
        name="pen_digits",
        task="5 vs rest",
        paper=(10992, 16, 2, 9.42),
        sources=(src.keel_table("penbased", names.PENDIGITS),),
        remote=zenodo("pen_digits"),
        origin="UCI Pen-Based Recognition of Handwritten Digits (train + test), via KEEL",
        citation="F. Alimoglu, E. Alpaydin, Pen-Based Recognition of Handwritten Digits, "
        f"{UCI}, 1996",
        positive=(5,),
    ),
    Benchmark(
        name="abalone",
        task="rings 7 vs rest",
        paper=(4177, 10, 2, 9.72),
        sources=(src.abalone_rings7,),
        remote=zenodo("abalone"),
        origin="UCI Abalone; the rings-7 label rebuilt from KEEL's abalone splits",
        citation="W. J. Nash, T. L. Sellers, S. R. Talbot, A. J. Cawthorn, W. B. Ford, The "
        "Population Biology of Abalone (Haliotis species) in Tasmania, Sea Fisheries Division "
        f"Technical Report 48, 1994; {KEEL}",
        notes=(
            "KEEL's abalone has 4174 of UCI's 4177 rows; one rings-7 and one rings-8 row are among "
            "the 3 missing: 390 positives (UCI 391), imbalance ratio 3784/390 = 9.70 "
            "(imbalanced-learn's 4177 rows: 3786/391 = 9.68); the paper prints 4177 rows and 9.72",
            "the rebuilt rings counts equal UCI's for rings 3, 9, 10, 11 and 17-21",
        ),
    ),
    Benchmark(
        name="isolet",
        task="A,B vs rest",
        paper=(7797, 617, 2, 12.00),
        sources=(src.isolet_files,),
        remote=zenodo("isolet"),
        origin="UCI ISOLET (isolet1-4 + isolet5, 7797 rows); classes 1, 2 = letters A, B",
        citation=f"R. Cole, M. Fanty, ISOLET, {UCI}, 1991",
        data_home_files=("isolet/isolet1+2+3+4.data", "isolet/isolet5.data"),
        positive=(1, 2),
    ),
    Benchmark(
        name="arrhythmia",
        task="class 6 vs rest",
        paper=(452, 278, 2, 17.20),
        sources=(src.arrhythmia_file,),
        remote=zenodo("arrhythmia"),
        origin="UCI Arrhythmia; class 6 = sinus bradycardy",
        citation="H. A. Guvenir, B. Acar, G. Demiroz, A. Cekin, A Supervised Machine Learning "
        "Algorithm for Arrhythmia Analysis, Proc. Computers in Cardiology, 1997",
        data_home_files=("arrhythmia/arrhythmia.data",),
        positive=(6,),
        notes=(
            "279 features: all of UCI's, its 408 missing cells (376 in attribute J) kept as NaN; "
            "the paper and imbalanced-learn list 278",
            "imbalance ratio 427/25 = 17.08; the paper prints 17.20",
        ),
    ),
    Benchmark(
        name="minerals",
        task="multiclass",
        paper=(3112, 140, 7, 95.20),
        sources=(src.minerals_file,),
        remote=None,
        origin="unknown: the paper names no source and no public copy of 3112 rows x 140 "
        "features was identified",
        citation="unknown",
        data_home_files=("minerals/minerals.csv",),
        notes=("no known public source: put a CSV (header row, label last) in the data home",),
    ),
    Benchmark(
        name="vehicle",
        task="multiclass",
        paper=(846, 19, 4, 1.10),
        sources=(src.keel_table("vehicle", names.VEHICLE), src.vehicle_uci),
        remote=openml(54, "vehicle"),
        origin="UCI Statlog (Vehicle Silhouettes)",
        citation="J. P. Siebert, Vehicle Recognition Using Rule Based Methods, Turing Institute "
        "Research Memorandum TIRM-87-018, 1987",
        notes=(f"18 features: {LABEL_COLUMN}",),
    ),
    Benchmark(
        name="satimage",
        task="multiclass",
        paper=(6430, 37, 6, 2.45),
        sources=(src.keel_table("satimage", names.SATIMAGE), src.satimage_uci),
        remote=openml(182, "satimage"),
        origin="UCI Statlog (Landsat Satellite) (train + test)",
        citation=SATIMAGE,
        notes=(
            "6435 rows (UCI, KEEL); the paper's 6430 is OpenML's copy (id 182)",
            f"36 features: {LABEL_COLUMN}",
        ),
    ),
    Benchmark(
        name="har",
        task="multiclass",
        paper=(10299, 562, 6, 1.38),
        sources=(src.har_files,),
        remote=openml(1478, "har"),
        origin="UCI Human Activity Recognition Using Smartphones (train + test)",
        citation="D. Anguita, A. Ghio, L. Oneto, X. Parra, J. L. Reyes-Ortiz, A Public Domain "
        "Dataset for Human Activity Recognition Using Smartphones, ESANN 2013",
        data_home_files=tuple(
            f"har/UCI HAR Dataset/{split}/{kind}_{split}.txt"
            for split in ("train", "test")
            for kind in ("X", "y")
        ),
        notes=(f"561 features: {LABEL_COLUMN}",),
    ),
    Benchmark(
        name="wine_quality_red",
        task="multiclass",
        paper=(1599, 12, 6, 68.00),
        sources=(src.wine_red_rebuilt, src.wine_file("red")),
        remote=openml(40691, "wine_quality_red"),
        origin="UCI Wine Quality (red); quality labels rebuilt from KEEL's red-wine splits",
        citation=WINE,
        data_home_files=("wine-quality-red/winequality-red.csv",),
        notes=(
            f"11 features: {LABEL_COLUMN}",
            "imbalance ratio 681/10 = 68.1",
            "the rebuilt quality counts equal UCI's: 3:10, 4:53, 5:681, 6:638, 7:199, 8:18",
        ),
    ),
    Benchmark(
        name="lymph",
        task="multiclass",
        paper=(148, 19, 4, 17.00),
        sources=(src.lymph_file,),
        remote=openml(10, "lymph"),
        origin="UCI Lymphography",
        citation="M. Zwitter, M. Soklic, Lymphography, University Medical Centre, Institute of "
        f"Oncology, Ljubljana; {UCI}, 1988",
        data_home_files=("lymphography/lymphography.data",),
        notes=(
            f"18 features: {LABEL_COLUMN}",
            "imbalance ratio 81/2 = 40.5 (classes 2:81, 3:61, 4:4, 1:2); the paper prints 17.00",
        ),
    ),
    Benchmark(
        name="one_hundred_plants_texture",
        task="multiclass",
        paper=(1599, 65, 100, 1.33),
        sources=(src.plants_texture_file,),
        remote=openml(1493, "one_hundred_plants_texture"),
        origin="UCI One-hundred plant species leaves, texture features",
        citation="C. Mallah, J. Cope, J. Orwell, Plant Leaf Classification Using Probabilistic "
        "Integration of Shape, Texture and Margin Features, Signal Processing, Pattern "
        "Recognition and Applications, 2013",
        data_home_files=("one-hundred-plants-texture/data_Tex_64.txt",),
        notes=(
            f"64 features: {LABEL_COLUMN}",
            "imbalance ratio 16/15 = 1.07 (99 classes of 16 rows, one of 15); "
            "the paper prints 1.33",
        ),
    ),
    Benchmark(
        name="balance_scale",
        task="multiclass",
        paper=(625, 5, 3, 5.80),
        sources=(src.balance_scale,),
        remote=None,
        origin="UCI Balance Scale, generated exactly (the data set is the full enumeration)",
        citation="R. S. Siegler, Three Aspects of Cognitive Development, Cognitive Psychology "
        "8:481-520, 1976",
        notes=(
            f"4 features: {LABEL_COLUMN}",
            "imbalance ratio 288/49 = 5.88 (L:288, R:288, B:49); the paper prints 5.80",
        ),
    ),
    Benchmark(
        name="wine_quality_white",
        task="multiclass",
        paper=(4898, 12, 7, 440.00),
        sources=(src.wine_file("white"),),
        remote=openml(40498, "wine_quality_white"),
        origin="UCI Wine Quality (white)",
        citation=WINE,
        data_home_files=("wine-quality-white/winequality-white.csv",),
        notes=(f"11 features: {LABEL_COLUMN}", "imbalance ratio 2198/5 = 439.6"),
    ),
    Benchmark(
        name="letter",
        task="multiclass",
        paper=(20000, 17, 26, 1.11),
        sources=(src.keel_table("letter", names.LETTER),),
        remote=openml(6, "letter"),
        origin="UCI Letter Recognition, via KEEL",
        citation="P. W. Frey, D. J. Slate, Letter Recognition Using Holland-style Adaptive "
        "Classifiers, Machine Learning 6(2):161-182, 1991",
        notes=(f"16 features: {LABEL_COLUMN}",),
    ),
    Benchmark(
        name="glass",
        task="multiclass",
        paper=(214, 10, 6, 7.50),
        sources=(src.glass_uci,),
        remote=openml(41, "glass"),
        origin="UCI Glass Identification",
        citation=f"B. German, Glass Identification, {UCI}, 1987",
        notes=(
            f"9 features: {LABEL_COLUMN}",
            "imbalance ratio 76/9 = 8.44 (classes 1:70, 2:76, 3:17, 5:13, 6:9, 7:29); "
            "the paper prints 7.50",
        ),
    ),
]

BENCHMARKS_BY_NAME = {benchmark.name: benchmark for benchmark in BENCHMARKS}
