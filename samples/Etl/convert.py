"""The ETL sample's convert stage as a Python persistent worker (stdlib only): `--python` runs this instead of the
.NET Orders.Convert. It gets a Parsed item as JSON ({"Index", "Order", "Reject", "Raw"}, PascalCase as .NET sends it)
and returns a Row ({"Index", "Order", "Reject", "Raw"}), the same as the .NET body, to the cent."""

from datetime import datetime, timezone
from decimal import ROUND_HALF_EVEN, Decimal

import nursery_worker

EUR_PER_UNIT = {"EUR": Decimal("1"), "USD": Decimal("0.92"), "GBP": Decimal("1.17"), "CHF": Decimal("1.05"),
                "SEK": Decimal("0.087"), "JPY": Decimal("0.0062")}
REGIONS = {**{c: "EMEA" for c in ("DE", "FR", "GB", "CH", "SE", "NL")},
           **{c: "AMER" for c in ("US", "CA", "BR", "MX")},
           **{c: "APAC" for c in ("JP", "AU", "IN", "SG")}}


def cents(amount):
    return int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_EVEN))


def created_utc(text):
    moment = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0+00:00"


def convert(parsed):
    order = parsed["Order"]
    if order is None:
        return {"Index": parsed["Index"], "Order": None, "Reject": parsed["Reject"], "Raw": parsed["Raw"]}
    lines = order["Lines"]
    total = sum(Decimal(str(l["UnitPrice"])) * l["Quantity"] for l in lines)
    customer = order["Customer"]
    row = {
        "Id": order["Id"],
        "Created": created_utc(order["Created"]),
        "CustomerId": customer["Id"],
        "CustomerName": customer["Name"],
        "Country": customer["Country"],
        "Region": REGIONS.get(customer["Country"], "OTHER"),
        "Currency": order["Currency"],
        "LineCount": len(lines),
        "Units": sum(l["Quantity"] for l in lines),
        "TotalCents": cents(total),
        "TotalEurCents": cents(total * EUR_PER_UNIT[order["Currency"]]),
    }
    return {"Index": parsed["Index"], "Order": row, "Reject": None, "Raw": None}


nursery_worker.serve(convert)
