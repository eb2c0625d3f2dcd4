// A JPEG with luma sampling factors TurboJPEG's API neither writes nor reads
// (1x4, 3x2; chroma 1x1), written through libjpeg: the decoder takes such files
// through libjpeg, a path of its own. Shared by the subsampling test and the
// fuzzers' seeds; the caller links libjpeg.
#pragma once
#include <cstdint>
#include <cstdio>  // jpeglib.h needs size_t and FILE first
#include <cstdlib>
#include <vector>

#include <jpeglib.h>

namespace nebula::test {

inline std::vector<uint8_t> jpeg_with_luma_sampling(const uint8_t* rgb, int w, int h, int luma_h, int luma_v,
                                                    int quality = 75) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr error;
  cinfo.err = jpeg_std_error(&error);
  jpeg_create_compress(&cinfo);
  unsigned char* buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = JDIMENSION(w);
  cinfo.image_height = JDIMENSION(h);
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  cinfo.comp_info[0].h_samp_factor = luma_h;
  cinfo.comp_info[0].v_samp_factor = luma_v;
  for (int c = 1; c < 3; ++c) cinfo.comp_info[c].h_samp_factor = cinfo.comp_info[c].v_samp_factor = 1;
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t*>(rgb) + size_t(cinfo.next_scanline) * w * 3;
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::vector<uint8_t> out(buffer, buffer + size);
  std::free(buffer);
  return out;
}

}  // namespace nebula::test
