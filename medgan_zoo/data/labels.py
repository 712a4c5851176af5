"""Label maps of the paper's three data sets (shared by each real loader and its phantom twin)."""

ACDC_LABELS: dict[int, str] = {0: "background", 1: "right ventricle", 2: "myocardium",
                               3: "left ventricle"}
SLIVER07_LABELS: dict[int, str] = {0: "background", 1: "liver"}
IDRID_LABELS: dict[int, str] = {0: "background", 1: "optic disc"}

#: ACDC's five groups of 30 exams (Info.cfg's ``Group``), by the short names used on the command line.
ACDC_GROUPS: dict[str, str] = {"nor": "normal", "minf": "previous myocardial infarction",
                               "dcm": "dilated cardiomyopathy", "hcm": "hypertrophic cardiomyopathy",
                               "rv": "abnormal right ventricle"}
