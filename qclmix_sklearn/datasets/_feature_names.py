"""Feature names of the benchmark datasets, as their original documentation spells them."""

ECOLI = ["mcg", "gvh", "lip", "chg", "aac", "alm1", "alm2"]
ABALONE = [
    "sex_F",
    "sex_I",
    "sex_M",
    "length",
    "diameter",
    "height",
    "whole_weight",
    "shucked_weight",
    "viscera_weight",
    "shell_weight",
]
OPTDIGITS = [f"pixel_{row}_{col}" for row in range(8) for col in range(8)]
PENDIGITS = [f"{axis}{point}" for point in range(1, 9) for axis in ("x", "y")]
SATIMAGE = [f"pixel{pixel}_band{band}" for pixel in range(1, 10) for band in range(1, 5)]
VEHICLE = [
    "compactness",
    "circularity",
    "distance_circularity",
    "radius_ratio",
    "pr_axis_aspect_ratio",
    "max_length_aspect_ratio",
    "scatter_ratio",
    "elongatedness",
    "pr_axis_rectangularity",
    "max_length_rectangularity",
    "scaled_variance_major",
    "scaled_variance_minor",
    "scaled_radius_of_gyration",
    "skewness_about_major",
    "skewness_about_minor",
    "kurtosis_about_minor",
    "kurtosis_about_major",
    "hollows_ratio",
]
LETTER = [
    "x-box",
    "y-box",
    "width",
    "high",
    "onpix",
    "x-bar",
    "y-bar",
    "x2bar",
    "y2bar",
    "xybar",
    "x2ybr",
    "xy2br",
    "x-ege",
    "xegvy",
    "y-ege",
    "yegvx",
]
WINE = [
    "fixed acidity",
    "volatile acidity",
    "citric acid",
    "residual sugar",
    "chlorides",
    "free sulfur dioxide",
    "total sulfur dioxide",
    "density",
    "pH",
    "sulphates",
    "alcohol",
]
GLASS = ["RI", "Na", "Mg", "Al", "Si", "K", "Ca", "Ba", "Fe"]
BALANCE_SCALE = ["left_weight", "left_distance", "right_weight", "right_distance"]
LYMPH = [
    "lymphatics",
    "block_of_affere",
    "bl_of_lymph_c",
    "bl_of_lymph_s",
    "by_pass",
    "extravasates",
    "regeneration_of",
    "early_uptake_in",
    "lym_nodes_dimin",
    "lym_nodes_enlar",
    "changes_in_lym",
    "defect_in_node",
    "changes_in_node",
    "changes_in_stru",
    "special_forms",
    "dislocation_of",
    "exclusion_of_no",
    "no_of_nodes_in",
]
PLANTS_TEXTURE = [f"texture{i}" for i in range(1, 65)]
# UCI arrhythmia.names names the first 15 attributes; the other 264 are ECG
# channel measurements (DI, DII, ..., V6) given here by position.
ARRHYTHMIA = [
    "age",
    "sex",
    "height",
    "weight",
    "qrs_duration",
    "p-r_interval",
    "q-t_interval",
    "t_interval",
    "p_interval",
    "qrs",
    "T",
    "P",
    "QRST",
    "J",
    "heart_rate",
] + [f"attribute_{i}" for i in range(16, 280)]
