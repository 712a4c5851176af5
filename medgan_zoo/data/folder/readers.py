"""Reading a user's files with maintained readers (Pillow, nibabel, SimpleITK), volumes reoriented
to RAS so that "axial" means the same thing for every file. Nothing parses a format by hand."""

from __future__ import annotations

import contextlib
import locale
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..files import reading
from ..slices import DatasetError

PICTURES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
VOLUMES = (".nii", ".nii.gz", ".mha", ".mhd", ".nrrd", ".nhdr")
DICOM = (".dcm",)
LOSSY = (".jpg", ".jpeg")


def kind(path: Path) -> str | None:
    """'picture', 'volume', 'dicom' (a file of a series or a single image), or None for a file the
    folder data set does not read."""
    name = path.name.lower()
    if name.endswith(VOLUMES):
        return "volume"
    if name.endswith(PICTURES):
        return "picture"
    if name.endswith(DICOM):
        return "dicom"
    return None


def stem(path: Path) -> str:
    """The name without its (double) extension; a DICOM series folder's own name."""
    name = path.name
    if path.is_dir():
        return name
    for ending in sorted(VOLUMES + PICTURES, key=len, reverse=True):
        if name.lower().endswith(ending):
            return name[: -len(ending)]
    return path.stem


@dataclass
class Grid:
    """An array in RAS orientation: pictures [H, W] or [H, W, 3] with unit spacing; volumes
    [X, Y, Z] with their spacing (mm), origin and direction (for checking a mask against its image)."""

    array: np.ndarray
    spacing: tuple[float, ...]
    origin: tuple[float, ...] = ()
    direction: tuple[float, ...] = ()
    bits: int = 8
    modality: str | None = None  # DICOM's Modality tag (CT, MR, ...) where the file has one


def read_picture(path: Path, what: str) -> Grid:
    from PIL import Image

    with reading(path, what), Image.open(path) as img:
        if getattr(img, "n_frames", 1) > 1:
            raise DatasetError(f"{path}: a multi-page {what} ({img.n_frames} pages, e.g. nnU-Net's 3-D TIFF): pictures "
                               "are read as one 2-D page; save volumes as NIfTI")
        if img.mode in ("I;16", "I;16B", "I;16L", "I"):
            return Grid(np.asarray(img, dtype=np.float32), (1.0, 1.0), bits=16)
        if img.mode == "P":
            return Grid(np.asarray(img.convert("RGB")), (1.0, 1.0))
        if img.mode in ("RGB", "RGBA", "CMYK", "YCbCr"):
            return Grid(np.asarray(img.convert("RGB")), (1.0, 1.0))
        return Grid(np.asarray(img.convert("L")), (1.0, 1.0))


def read_volume(path: Path, what: str, four_d: bool = False) -> Grid:
    """NIfTI through nibabel (``as_closest_canonical``), MetaImage/NRRD through SimpleITK
    (``DICOMOrient`` to RAS); both as an [X, Y, Z] array with spacing, origin and direction.
    ``four_d``: a 4-D NIfTI's last axis holds channels (the Decathlon's multi-modal images), kept as
    [X, Y, Z, C] (:func:`split_channels` makes one grid of each)."""
    name = path.name.lower()
    with reading(path, what):
        if name.endswith((".nii", ".nii.gz")):
            import nibabel as nib

            image = nib.as_closest_canonical(nib.load(str(path)))
            array = np.asanyarray(image.dataobj)
            if array.ndim == 4 and array.shape[3] == 1 and not four_d:
                array = array[..., 0]
            zooms = tuple(float(z) for z in image.header.get_zooms()[:3])
            affine = image.affine
            direction = tuple((affine[:3, :3] / np.maximum(np.abs(zooms), 1e-12)).flatten().tolist())
            grid = Grid(np.asarray(array), zooms, tuple(affine[:3, 3].tolist()), direction)
        else:
            sitk = _simpleitk(path, "MetaImage/NRRD files", "folder")
            image = sitk.DICOMOrient(sitk.ReadImage(str(path)), "RAS")
            array = sitk.GetArrayFromImage(image).transpose(2, 1, 0)  # ITK's z, y, x -> x, y, z
            grid = Grid(array, tuple(image.GetSpacing()), tuple(image.GetOrigin()), tuple(image.GetDirection()))
    if grid.array.ndim != 3 and not (four_d and grid.array.ndim == 4):
        raise DatasetError(f"{path}: a {grid.array.ndim}-D {what}; volumes are read as 3-D files of one channel "
                           "(nnU-Net v2 keeps each channel in a file of its own: CASE_0000, CASE_0001, ...) and "
                           "pictures as 2-D")
    if grid.array.dtype.kind == "f" and not np.isfinite(grid.array).all():
        raise DatasetError(f"{path}: the {what} holds NaN or infinite values")
    return grid


def _simpleitk(path: Path, what: str, extra: str):
    try:
        import SimpleITK as sitk
    except ImportError:
        raise DatasetError(f"{path}: {what} are read with SimpleITK: pip install 'medgan-zoo[{extra}]'") from None
    return sitk


@contextlib.contextmanager
def kept_locale():
    """GDCM (SimpleITK's DICOM reader) sets the process locale to "C", which turns Python's default
    text encoding into ASCII for everything after it: put it back."""
    saved = locale.setlocale(locale.LC_ALL)
    try:
        yield
    finally:
        locale.setlocale(locale.LC_ALL, saved)


def read_dicom(path: Path, what: str) -> Grid:
    """A folder holding one DICOM series (a volume, reoriented to RAS; slices checked for gaps and
    duplicates) or a single 2-D DICOM file (an image with its pixel spacing)."""
    sitk = _simpleitk(path, "DICOM files", "dicom")
    with kept_locale(), reading(path, what):
        if path.is_file():
            image = sitk.ReadImage(str(path))
            if image.GetDimension() == 3 and image.GetSize()[2] != 1:
                raise DatasetError(f"{path}: a multi-frame DICOM file; put one series per folder")
            array = sitk.GetArrayFromImage(image).reshape(image.GetSize()[1], image.GetSize()[0])
            spacing = tuple(float(v) for v in image.GetSpacing()[:2])
            return Grid(array.astype(np.float32), (spacing[1], spacing[0]), bits=16,
                        modality=_tag(image, "0008|0060"))
        series = sitk.ImageSeriesReader.GetGDCMSeriesIDs(str(path))
        if len(series) != 1:
            raise DatasetError(f"{path}: {len(series)} DICOM series in one folder; put each series in a folder "
                               "of its own" if series else f"{path}: no DICOM series found")
        files = list(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(path), series[0]))
        _check_positions(path, files, sitk)
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(files)
        image = reader.Execute()
        first = sitk.ImageFileReader()
        first.SetFileName(files[0])
        first.ReadImageInformation()
        modality = first.GetMetaData("0008|0060").strip() if first.HasMetaDataKey("0008|0060") else None
        image = sitk.DICOMOrient(image, "RAS")
        array = sitk.GetArrayFromImage(image).transpose(2, 1, 0)
        return Grid(array.astype(np.float32), tuple(image.GetSpacing()), tuple(image.GetOrigin()),
                    tuple(image.GetDirection()), bits=16, modality=modality)


def _tag(image, key: str) -> str | None:
    return image.GetMetaData(key).strip() if image.HasMetaDataKey(key) else None


def _check_positions(folder: Path, files: list[str], sitk) -> None:
    """Every slice once, none missing: positions along the slice normal evenly spaced."""
    if len(files) < 2:
        return
    positions = []
    normal = None
    for name in files:
        info = sitk.ImageFileReader()
        info.SetFileName(name)
        info.ReadImageInformation()
        if not info.HasMetaDataKey("0020|0032"):
            return  # no Image Position (Patient): SimpleITK orders by file; nothing to check
        position = np.array([float(v) for v in info.GetMetaData("0020|0032").split("\\")])
        if normal is None and info.HasMetaDataKey("0020|0037"):
            cosines = np.array([float(v) for v in info.GetMetaData("0020|0037").split("\\")])
            normal = np.cross(cosines[:3], cosines[3:])
        positions.append(float(position @ normal) if normal is not None else float(position[2]))
    order = np.sort(np.array(positions))
    gaps = np.diff(order)
    if (gaps < 1e-4).any():
        raise DatasetError(f"{folder}: duplicated DICOM slices (two files at position {order[1:][gaps < 1e-4][0]:.2f} "
                           "mm along the slice normal)")
    step = float(np.median(gaps))
    if (gaps > 1.5 * step).any():
        at = order[:-1][gaps > 1.5 * step][0]
        raise DatasetError(f"{folder}: missing DICOM slice(s) after {at:.2f} mm (a gap of "
                           f"{gaps[gaps > 1.5 * step][0]:.2f} mm where slices are {step:.2f} mm apart)")


def read(path: Path, what: str, four_d: bool = False) -> Grid:
    if path.is_dir() or kind(path) == "dicom":
        return read_dicom(path, what)
    return read_volume(path, what, four_d) if kind(path) == "volume" else read_picture(path, what)


def split_channels(grid: Grid) -> list[Grid]:
    """One grid per channel of a 4-D [X, Y, Z, C] volume; any other grid as it is."""
    if grid.array.ndim != 4:
        return [grid]
    return [Grid(np.ascontiguousarray(grid.array[..., c]), grid.spacing, grid.origin, grid.direction, grid.bits,
                 grid.modality) for c in range(grid.array.shape[3])]


AXIS = {"sagittal": 0, "coronal": 1, "axial": 2}


def slices(grid: Grid, axis: str) -> tuple[list[np.ndarray], tuple[float, float]]:
    """The 2-D slices of a volume along an anatomical axis, each [rows, cols], with their in-plane
    spacing; a picture is one slice."""
    if grid.array.ndim == 2 or (grid.array.ndim == 3 and grid.array.shape[2] == 3 and len(grid.spacing) == 2):
        return [grid.array], (float(grid.spacing[0]), float(grid.spacing[1]))
    k = AXIS[axis]
    rest = [i for i in range(3) if i != k]
    # rows from the second remaining axis, reversed, so that anterior/superior is up in the picture;
    # made contiguous once per volume (copying each strided slice later is several times slower)
    block = np.ascontiguousarray(np.flip(np.swapaxes(np.moveaxis(grid.array, k, 0), 1, 2), axis=1))
    return list(block), (float(grid.spacing[rest[1]]), float(grid.spacing[rest[0]]))


def slice_count(path: Path, axis: str) -> int:
    """Slices a file or series will give, from its header only (no pixel data read)."""
    shape = header_shape(path)
    if path.is_dir():
        return shape[0]
    return int(shape[AXIS[axis]]) if kind(path) == "volume" and len(shape) == 3 else 1


def header_shape(path: Path) -> tuple[int, ...]:
    """An image's or mask's shape from its header (no pixels read): (rows, cols) of a picture, the
    RAS (x, y, z) of a volume; a DICOM series folder: its file count."""
    with reading(path, "file"):
        if path.is_dir():
            return (len(list(path.glob("*.dcm"))),)
        what = kind(path)
        if what == "picture":
            from PIL import Image

            with Image.open(path) as img:
                return (img.size[1], img.size[0])
        if what == "dicom":
            return ()
        if path.name.lower().endswith((".nii", ".nii.gz")):
            import nibabel as nib

            image = nib.load(str(path))
            ornt = nib.orientations.io_orientation(image.affine)
            return tuple(int(image.shape[int(np.flatnonzero(ornt[:, 0] == k)[0])]) for k in range(3))
        sitk = _simpleitk(path, "MetaImage/NRRD files", "folder")
        info = sitk.ImageFileReader()
        info.SetFileName(str(path))
        info.ReadImageInformation()
        return tuple(int(v) for v in info.GetSize())
