"""Camera frames and image files -> decoded barcodes -> the asset tag. No widgets, no Qt.

- `pipeline.DecodePipeline` reads one frame or image file within a time budget: zxing-cpp first,
  pyzbar when that finds nothing, then barcode regions located, turned level and decoded again,
  then contrast and scale retries.
- `tag_choice.choose_tag` picks the asset tag among everything read, and resolves a manufacturer
  serial through a lookup the caller supplies (so this package needs no database).
- `live_camera.LiveScanner` decodes the latest camera frame on a worker thread, accepts a tag
  when two of the last three reads agree, and reports a camera that sends no frames.
- `decode_command.run_decode` is the `exchange-station decode IMAGE...` command.
"""
