# Finds the reference NIfTI C library (nifti_clib: nifti2_io + znz) and defines NiftiC::nifti2.
# Debian 12's own NIFTIConfig.cmake points at /usr/lib/libznz.so.3.0.0, which the package installs
# elsewhere, so this module searches for the files directly.
find_path(NiftiC_INCLUDE_DIR nifti2_io.h PATH_SUFFIXES nifti)
find_library(NiftiC_NIFTI2_LIBRARY nifti2)
find_library(NiftiC_ZNZ_LIBRARY znz)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(NiftiC REQUIRED_VARS NiftiC_NIFTI2_LIBRARY NiftiC_ZNZ_LIBRARY
                                  NiftiC_INCLUDE_DIR)
if(NiftiC_FOUND AND NOT TARGET NiftiC::nifti2)
  add_library(NiftiC::nifti2 UNKNOWN IMPORTED)
  set_target_properties(NiftiC::nifti2 PROPERTIES
    IMPORTED_LOCATION "${NiftiC_NIFTI2_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${NiftiC_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES "${NiftiC_ZNZ_LIBRARY};ZLIB::ZLIB;m")
endif()
mark_as_advanced(NiftiC_INCLUDE_DIR NiftiC_NIFTI2_LIBRARY NiftiC_ZNZ_LIBRARY)
