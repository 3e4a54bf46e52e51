"""A map of Denmark's five regions, drawn by hand from the regions' outlines (simplified), shipped as inline SVG so
nothing loads from outside. Bornholm (Region Hovedstaden) sits in an inset, as on most Danish maps."""

VIEWBOX = "0 0 350 375"
BORNHOLM_INSET = {"x": 298, "y": 276, "width": 46, "height": 52}
REGION_PATHS = {
    "nordjylland": "M171.2 20.8 L168.1 53.2 L155.7 80.2 L161.9 107.2 L152.6 139.6 L103.0 145.0 L47.2 150.4 "
    "L19.3 139.6 L47.2 88.8 L109.2 53.2 Z",
    "midtjylland": "M152.6 139.6 L189.8 155.8 L189.8 177.4 L165.0 199.0 L146.4 209.8 L134.0 242.2 L103.0 236.8 "
    "L41.0 231.4 L16.2 215.2 L19.3 139.6 L47.2 150.4 L103.0 145.0 Z",
    "syddanmark": "M134.0 242.2 L118.5 263.8 L115.4 290.8 L103.0 317.8 L112.3 334.0 L50.3 328.6 L47.2 274.6 "
    "L16.2 258.4 L16.2 215.2 L41.0 231.4 L103.0 236.8 Z M118.5 258.4 L161.9 253.0 L186.7 285.4 L177.4 312.4 "
    "L146.4 312.4 L115.4 296.2 Z",
    "hovedstaden": "M248.7 213.0 L276.6 196.8 L295.2 204.4 L300.2 253.0 L273.5 258.4 L264.2 236.8 L254.9 226.0 Z "
    "M307.6 285.4 L316.9 287.6 L335.5 301.6 L332.4 318.9 L313.8 312.4 L306.4 301.6 Z",
    "sjaelland": "M202.2 244.4 L220.8 215.2 L248.7 213.0 L254.9 226.0 L264.2 236.8 L273.5 258.4 L285.9 285.4 "
    "L258.0 312.4 L242.5 323.2 L208.4 296.2 L202.2 263.8 Z M196.0 334.0 L245.6 323.2 L264.2 344.8 L251.8 361.0 "
    "L208.4 355.6 L192.9 344.8 Z",
}


def region_map(*, regions, served_codes) -> dict:
    """What the map template draws: every region, marked when the hub serves it."""
    return {
        "viewbox": VIEWBOX,
        "inset": BORNHOLM_INSET,
        "regions": [
            {
                "code": region.code,
                "name": region.name,
                "path": REGION_PATHS[region.code],
                "served": region.code in served_codes,
            }
            for region in regions
            if region.code in REGION_PATHS
        ],
    }
