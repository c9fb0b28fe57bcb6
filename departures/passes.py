"""What the citizen shows at the assembly point: their offer's reference, and a QR code of it
drawn on the site (no external QR service sees it). The code holds the reference alone, which
names no one: a phone's scanner app pastes it into the check-in page's search field."""

from io import BytesIO

import qrcode
import qrcode.image.svg


def reference_qrcode_svg(reference: str) -> str:
    image = qrcode.make(reference, image_factory=qrcode.image.svg.SvgPathImage)
    out = BytesIO()
    image.save(out)
    svg = out.getvalue().decode()
    # Inline in the page, so without the XML declaration.
    return svg[svg.index("<svg") :]
