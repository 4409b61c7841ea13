"""English and Vietnamese labels of the browser app.

The first users are Hai Phong's park management board and the ministry's EIP project, so
every label the app shows comes from here; ``tests/test_viz_unit.py`` checks that each key
has both languages and the same ``{placeholders}``.
"""

from __future__ import annotations

LANGUAGES: dict[str, str] = {"en": "English", "vi": "Tiếng Việt"}
DEFAULT_LANGUAGE = "en"

# key -> (English, Vietnamese)
LABELS: dict[str, tuple[str, str]] = {
    "title": (
        "eipsim: industrial symbiosis in an eco-industrial park",
        "eipsim: cộng sinh công nghiệp trong khu công nghiệp sinh thái",
    ),
    "language": ("Language", "Ngôn ngữ"),
    "time": ("Time:", "Thời gian:"),
    "months_done": ("month {step} of {steps}", "tháng {step} / {steps}"),
    "run": ("Run", "Chạy mô hình"),
    "step": ("Step", "Bước"),
    "play": ("Play", "Chạy"),
    "pause": ("Pause", "Dừng"),
    "reset": ("Reset", "Đặt lại"),
    "play_interval": ("Pause between redraws (ms)", "Nghỉ giữa các lần vẽ (ms)"),
    "update_time": (
        "last page update: {ms} ms (model step {model_ms} ms)",
        "lần cập nhật trang gần nhất: {ms} ms (bước mô hình {model_ms} ms)",
    ),
    "finished": ("The run has reached its last month.", "Lần chạy đã tới tháng cuối cùng."),
    "step_error": ("The model failed in this step: {msg}", "Mô hình gặp lỗi ở bước này: {msg}"),
    "levers": ("Levers", "Đòn bẩy chính sách"),
    "scenario": ("Scenario", "Kịch bản"),
    "facilities": ("Shared facilities", "Hạ tầng dùng chung"),
    "seed": (
        "Seed (a whole number; empty = random)",
        "Hạt giống ngẫu nhiên (số nguyên; để trống = ngẫu nhiên)",
    ),
    "seed_error": (
        "The seed must be a whole number from 0 to {max}, or empty for a random "
        "seed; {text!r} is not. The model keeps its current seed.",
        "Hạt giống phải là số nguyên từ 0 đến {max}, hoặc để trống để chọn ngẫu "
        "nhiên; {text!r} không hợp lệ. Mô hình giữ hạt giống hiện tại.",
    ),
    "seed_used": ("Seed of this run: {seed}", "Hạt giống của lần chạy này: {seed}"),
    "pending": (
        "Changed settings (highlighted) take effect on Apply and reset.",
        "Thiết lập đã đổi (tô màu) có hiệu lực khi bấm Áp dụng và đặt lại.",
    ),
    "settings_error": ("These settings are not valid: {msg}", "Thiết lập không hợp lệ: {msg}"),
    "map": ("Park map", "Bản đồ khu công nghiệp"),
    "colour_by": ("Colour plots by", "Tô màu lô đất theo"),
    "by_nationality": ("nationality", "quốc tịch"),
    "by_sector": ("sector", "ngành"),
    "vacant": ("vacant plot", "lô đất trống"),
    "zone": ("Zone", "Phân khu"),
    "map_hint": (
        "Click a plot to inspect the firm; hover for a summary. Lines: links, coloured "
        "by material, wider for more tonnes; the dot marks the receiving firm. A dark "
        "outline: the firm lists its waste on the platform. Small squares in a plot: "
        "connected to a shared facility.",
        "Bấm vào lô đất để xem doanh nghiệp; di chuột để xem tóm tắt. Đường nối: "
        "liên kết, màu theo vật liệu, càng dày càng nhiều tấn; chấm tròn là DN nhận. Viền đậm: DN "
        "đăng tin chất thải trên hệ thống. Ô vuông nhỏ trong lô: đã nối với hạ tầng "
        "dùng chung.",
    ),
    "network": ("Symbiosis network", "Mạng lưới cộng sinh"),
    "network_hint": (
        "Firms grouped by sector around the circle; the layout stays fixed.",
        "Doanh nghiệp xếp theo ngành quanh vòng tròn; bố cục được giữ cố định.",
    ),
    "materials": ("Materials", "Vật liệu"),
    "charts": ("Over time", "Theo thời gian"),
    "chart_adoption": ("Adoption and links", "Mức tham gia và số liên kết"),
    "adoption_share": ("share of firms in a symbiosis", "tỷ lệ DN tham gia cộng sinh"),
    "active_links": ("active links", "liên kết đang hoạt động"),
    "chart_tonnes": ("Tonnes per month", "Tấn mỗi tháng"),
    "tonnes_exchanged": ("exchanged", "được trao đổi"),
    "tonnes_landfilled": ("landfilled", "bị chôn lấp"),
    "tonnes_not_exchanged": ("not exchanged", "không được trao đổi"),
    "chart_trust": ("Mean trust between firms", "Niềm tin trung bình giữa các doanh nghiệp"),
    "trust_within": ("within a nationality", "cùng quốc tịch"),
    "trust_across": ("across nationalities", "khác quốc tịch"),
    "chart_eip": ("EIP score", "Điểm khu công nghiệp sinh thái"),
    "eip_score": ("EIP score", "điểm KCN sinh thái"),
    "certification_line": ("certification line", "ngưỡng công nhận"),
    "month": ("month", "tháng"),
    "value": ("value", "giá trị"),
    "series": ("series", "chuỗi"),
    "no_data": ("Press Step or Play to start the run.", "Bấm Bước hoặc Chạy để bắt đầu."),
    "summary": ("Summary", "Tóm tắt"),
    "kpis": ("Indicators this month", "Chỉ số tháng này"),
    "criteria": ("EIP criteria", "Tiêu chí khu công nghiệp sinh thái"),
    "criteria_none": (
        "Not assessed yet (the first assessment comes after month {every}).",
        "Chưa đánh giá (lần đánh giá đầu tiên sau tháng {every}).",
    ),
    "criterion": ("criterion", "tiêu chí"),
    "threshold": ("threshold", "ngưỡng"),
    "met": ("met", "đạt"),
    "not_met": ("not met", "chưa đạt"),
    "criteria_count": ("{met} of {total} criteria met", "đạt {met} / {total} tiêu chí"),
    "export": ("Export", "Xuất dữ liệu"),
    "download_csv": ("Download timeseries (CSV)", "Tải chuỗi thời gian (CSV)"),
    "download_yaml": ("Save settings as scenario (YAML)", "Lưu thiết lập thành kịch bản (YAML)"),
    "yaml_hint": (
        "Both files hold the run on screen: its scenario, levers and seed. Run the YAML "
        "with `eipsim run FILE`.",
        "Cả hai tệp ghi lần chạy đang hiển thị: kịch bản, đòn bẩy và hạt giống. Chạy tệp "
        "YAML bằng `eipsim run FILE`.",
    ),
    # run controls
    "run_to_end": ("Run to end", "Chạy đến cuối"),
    "update_every": ("Redraw every N months", "Vẽ lại mỗi N tháng"),
    "apply_reset": ("Apply and reset", "Áp dụng và đặt lại"),
    "changed_n": (
        "{n} changed setting(s) not applied yet: {names}",
        "{n} thiết lập đã đổi nhưng chưa áp dụng: {names}",
    ),
    "switch_confirm": (
        "Load {name}? Your {n} changed setting(s) will be lost.",
        "Mở {name}? {n} thiết lập bạn đã đổi sẽ bị bỏ.",
    ),
    "switch_ok": ("Load it", "Mở"),
    "cancel": ("Cancel", "Hủy"),
    "exact_value": ("exact value", "giá trị chính xác"),
    "scheduled": ("from month {step}", "từ tháng {step}"),
    "schedules": ("Scheduled", "Lịch áp dụng"),
    "marker_platform": ("platform", "hệ thống"),
    "marker_standard": ("standard: {what}", "tiêu chuẩn: {what}"),
    "marker_facility": ("{what} built", "xây xong {what}"),
    "off": ("off", "tắt"),
    "on": ("on", "bật"),
    "permalink": ("Link to this run", "Liên kết tới lần chạy này"),
    "permalink_hint": (
        "Opens the same scenario, levers and seed.",
        "Mở lại cùng kịch bản, đòn bẩy và hạt giống.",
    ),
    "link_problem": (
        "Some parts of the link were not used: {what}",
        "Một số phần của liên kết không dùng được: {what}",
    ),
    # compare and ensembles
    "compare": ("Compare", "So sánh"),
    "keep_reference": ("Keep as reference", "Giữ làm tham chiếu"),
    "clear_reference": ("Clear reference", "Bỏ tham chiếu"),
    "reference": ("reference", "tham chiếu"),
    "this_run": ("this run", "lần chạy này"),
    "kept_runs": ("Kept runs", "Các lần chạy đã giữ"),
    "kept_as": ("{name}: seed {seed}, month {step}", "{name}: hạt giống {seed}, tháng {step}"),
    "compare_a": ("Run A", "Lần chạy A"),
    "compare_b": ("Run B", "Lần chạy B"),
    "difference": ("difference", "chênh lệch"),
    "difference_ens": (
        "difference (median [IQR] over paired seeds)",
        "chênh lệch (trung vị [khoảng tứ phân vị] theo cặp hạt giống)",
    ),
    "lever": ("lever", "đòn bẩy"),
    "outcome": ("indicator at the last month", "chỉ số ở tháng cuối"),
    "no_reference": (
        "Keep a run as reference, change a lever, press Apply and reset: the charts then "
        "show both runs and this table their differences.",
        "Giữ một lần chạy làm tham chiếu, đổi một đòn bẩy rồi bấm Áp dụng và đặt lại: biểu "
        "đồ sẽ hiện cả hai lần chạy và bảng này hiện chênh lệch.",
    ),
    "ensemble": ("Spread over seeds", "Phân tán theo hạt giống"),
    "run_seeds": ("Run {n} seeds", "Chạy {n} hạt giống"),
    "n_seeds": ("Seeds", "Số hạt giống"),
    "ensemble_progress": (
        "{done} of {total} runs done ({secs} s)",
        "xong {done} / {total} lần chạy ({secs} giây)",
    ),
    "ensemble_hint": (
        "Runs the levers of this run over N seeds in background processes; charts show the "
        "median and the band between the 25th and 75th percentile. With a reference kept, "
        "its levers run on the same seeds.",
        "Chạy các đòn bẩy của lần chạy này với N hạt giống trong tiến trình nền; biểu đồ "
        "hiện trung vị và dải giữa phân vị 25 và 75. Nếu có tham chiếu, đòn bẩy của nó "
        "được chạy với cùng các hạt giống.",
    ),
    "ensemble_error": ("{n} run(s) failed: {msg}", "{n} lần chạy lỗi: {msg}"),
    "median": ("median", "trung vị"),
    "difference_charts": (
        "This run minus the reference, seed by seed (median and 25–75 % band)",
        "Lần chạy này trừ tham chiếu, theo từng hạt giống (trung vị và dải 25–75 %)",
    ),
    "clear_ensemble": ("Clear spread", "Xóa phân tán"),
    # inspect
    "inspect": ("Firm", "Doanh nghiệp"),
    "inspect_hint": (
        "Click a firm on the map or in the network.",
        "Bấm vào một doanh nghiệp trên bản đồ hoặc trong mạng lưới.",
    ),
    "close": ("Close", "Đóng"),
    "streams": ("Streams per month", "Dòng vật chất mỗi tháng"),
    "partner": ("partner", "đối tác"),
    "trust_in_them": ("its trust in them", "DN này tin họ"),
    "their_trust": ("their trust in it", "họ tin DN này"),
    "material": ("material", "vật liệu"),
    "direction": ("direction", "chiều"),
    "last_month": ("last month", "tháng trước"),
    "benefit_so_far": ("benefit so far (USD)", "lợi ích tới nay (USD)"),
    "candidates": ("Candidate links and why", "Liên kết tiềm năng và lý do"),
    "not_available": (
        "not available in this model version",
        "chưa có trong phiên bản mô hình này",
    ),
    "no_candidates": ("no candidates this month", "không có ứng viên tháng này"),
    "role": ("role", "vai trò"),
    "reason": ("reason", "lý do"),
    "reason_ok": ("would go ahead", "có thể thực hiện"),
    "reason_trust": ("too little trust", "chưa đủ niềm tin"),
    "reason_confidentiality": ("confidentiality", "bảo mật thông tin"),
    "reason_economics": ("does not pay", "không có lãi"),
    "reason_permit": ("permit", "giấy phép"),
    "reason_not known": ("not known to each other", "chưa biết nhau"),
    "role_supplies": ("it supplies", "DN này cung cấp"),
    "role_uses": ("it uses", "DN này sử dụng"),
    "click_for_details": ("(click for details)", "(bấm để xem chi tiết)"),
    "filter_materials": ("Show links of", "Hiện liên kết của"),
    "all_materials": ("all materials", "mọi vật liệu"),
    "line_width": (
        "Line width: tonnes (or MWh) per month",
        "Độ dày đường: tấn (hoặc MWh) mỗi tháng",
    ),
    # charts
    "choose_charts": ("Charts", "Biểu đồ"),
    "chart_links": ("Active links", "Liên kết đang hoạt động"),
    "chart_public": ("Public finance (USD, cumulative)", "Tài chính công (USD, lũy kế)"),
    "chart_public_net": (
        "Public money, net spent (USD; < 0: net revenue)",
        "Ngân sách chi ròng (USD; < 0: thu ròng)",
    ),
    "public_net": (
        "subsidies paid − taxes collected, so far",
        "trợ cấp đã chi − thuế đã thu, lũy kế",
    ),
    "public_revenue": ("revenue", "thu"),
    "chart_solid": ("Solid by-products per month (t)", "Chất thải rắn mỗi tháng (tấn)"),
    "chart_water": ("Treated water per month (m³)", "Nước đã xử lý mỗi tháng (m³)"),
    "chart_benefits": ("Benefits (USD)", "Lợi ích (USD)"),
    "public_spending": ("spending", "chi"),
    "export_hint": (
        "SVG and PNG buttons under each chart save it as drawn.",
        "Nút SVG và PNG dưới mỗi biểu đồ lưu biểu đồ như đang hiển thị.",
    ),
    # tooltip
    "firm": ("Firm", "Doanh nghiệp"),
    "sector": ("Sector", "Ngành"),
    "nationality": ("Nationality", "Quốc tịch"),
    "size": ("Size", "Quy mô"),
    "supplies": ("Supplies per month", "Cung cấp mỗi tháng"),
    "demands": ("Demands per month", "Nhu cầu mỗi tháng"),
    "links": ("Links", "Liên kết"),
    "no_links": ("no links yet", "chưa có liên kết"),
    "to": ("to", "đến"),
    "from": ("from", "từ"),
    "trust": ("Trust", "Niềm tin"),
    "trust_given": ("mean trust in other firms {v}", "niềm tin trung bình vào DN khác {v}"),
    "trust_received": ("mean trust from other firms {v}", "được DN khác tin trung bình {v}"),
    "trust_partner": ("trust in {name}: {v}", "tin {name}: {v}"),
    "listed": ("listed on the platform", "có đăng tin trên hệ thống"),
    "recp": ("applies cleaner production (RECP)", "áp dụng sản xuất sạch hơn (RECP)"),
    "facility": ("Shared facility", "Hạ tầng dùng chung"),
    "connected": ("connected firms: {n}", "số DN kết nối: {n}"),
    "throughput": ("throughput last month: {v}", "công suất tháng trước: {v}"),
    "not_built": ("not built yet (planned for month {step})", "chưa xây (dự kiến tháng {step})"),
    "link": ("Link", "Liên kết"),
    "per_month": ("per month", "mỗi tháng"),
    "since": ("since month {step}", "từ tháng {step}"),
    "nothing_delivered": ("nothing delivered yet", "chưa giao lần nào"),
}

# Domain names the catalogue gives in English; Vietnamese where we have them.
SECTORS_VI: dict[str, str] = {
    "steel": "Luyện thép",
    "plastics_recycling": "Tái chế nhựa",
    "plastic_products": "Sản xuất sản phẩm nhựa",
    "chemicals": "Hóa chất",
    "food_processing": "Chế biến thực phẩm",
    "electronics": "Điện tử",
    "textiles_garments": "Dệt may",
    "manufacturing": "Cơ khí chế tạo",
    "logistics": "Logistics và cảng",
    "power_utilities": "Điện và tiện ích",
    "waste_treatment": "Xử lý chất thải",
    "building_materials": "Vật liệu xây dựng",
}
MATERIALS_VI: dict[str, str] = {
    "scrap_metal": "phế liệu kim loại",
    "steel_slag": "xỉ thép",
    "fly_ash": "tro bay",
    "plastic_scrap": "phế liệu nhựa",
    "recycled_pellets": "hạt nhựa tái chế",
    "plastic_residue": "cặn nhựa",
    "combustible_waste": "chất thải đốt được",
    "organic_waste": "chất thải hữu cơ",
    "spent_solvent": "dung môi thải",
    "treated_wastewater": "nước thải đã xử lý",
    "waste_heat": "nhiệt thải",
    "solar_power": "điện mặt trời",
}
FACILITIES: dict[str, tuple[str, str]] = {
    "wastewater_treatment": ("Central wastewater treatment", "Xử lý nước thải tập trung"),
    "steam_network": ("Steam / heat network", "Mạng hơi / nhiệt dùng chung"),
    "materials_recovery": ("Materials recovery facility", "Cơ sở thu hồi vật liệu"),
    "solar_microgrid": ("Rooftop-solar micro-grid", "Lưới điện mặt trời áp mái"),
    "recycled_plastic_roads": (
        "Roads from recycled plastic",
        "Đường giao thông từ nhựa tái chế",
    ),
}
# KPI names shown in the summary; keys not listed here are shown as they are.
KPIS: dict[str, tuple[str, str]] = {
    "step": ("month", "tháng"),
    "firms": ("firms", "số doanh nghiệp"),
    "occupancy": ("occupancy", "tỷ lệ lấp đầy"),
    "firms_in_symbiosis": ("firms in a symbiosis", "số DN tham gia cộng sinh"),
    "firms_in_links": ("firms in firm-to-firm links", "số DN có liên kết trao đổi"),
    "adoption_share": ("share of firms in a symbiosis", "tỷ lệ DN tham gia cộng sinh"),
    "active_links": ("active links", "liên kết đang hoạt động"),
    "pending_links": ("links being set up", "liên kết đang chuẩn bị"),
    "links_formed_total": ("links formed so far", "tổng số liên kết đã hình thành"),
    "links_ended_total": ("links ended so far", "tổng số liên kết đã chấm dứt"),
    "waste_generated_t": ("waste generated (t)", "chất thải phát sinh (tấn)"),
    "exchanged_t": ("exchanged (t)", "được trao đổi (tấn)"),
    "exchanged_links_t": ("exchanged between firms (t)", "trao đổi giữa các DN (tấn)"),
    "exchanged_facilities_t": ("recovered by facilities (t)", "thu hồi qua hạ tầng (tấn)"),
    "landfilled_t": ("landfilled (t)", "chôn lấp (tấn)"),
    "diversion_rate": ("share diverted from landfill", "tỷ lệ tránh chôn lấp"),
    "heat_exchanged_mwh": ("heat exchanged (MWh)", "nhiệt trao đổi (MWh)"),
    "solar_mwh": ("solar power (MWh)", "điện mặt trời (MWh)"),
    "co2_avoided_t": ("CO2 avoided (t)", "CO2 tránh được (tấn)"),
    "net_benefit_usd": ("net benefit (USD)", "lợi ích ròng (USD)"),
    "mean_trust_same_nationality": ("mean trust, same nationality", "niềm tin TB, cùng quốc tịch"),
    "mean_trust_cross_nationality": (
        "mean trust, across nationalities",
        "niềm tin TB, khác quốc tịch",
    ),
    "mean_trust_in_operator": (
        "mean trust in the park operator",
        "niềm tin TB vào đơn vị vận hành KCN",
    ),
    "platform_listings": ("firms listed on the platform", "số DN đăng tin trên hệ thống"),
    "recp_aware_share": ("share of firms aware of RECP", "tỷ lệ DN biết về RECP"),
    "recp_firms_screened": (
        "firms screened for RECP so far",
        "số DN đã được đánh giá RECP",
    ),
    "last_event_attendance": (
        "firms at the latest matchmaking event",
        "số DN dự sự kiện kết nối gần nhất",
    ),
    "recp_applied_share": ("share of firms applying RECP", "tỷ lệ DN áp dụng RECP"),
    "facilities_built": ("shared facilities built", "số hạ tầng dùng chung đã xây"),
    "facility_users": ("facility connections", "số kết nối hạ tầng dùng chung"),
    "operator_cash_usd": ("operator cash (USD)", "tiền mặt của đơn vị vận hành (USD)"),
    "government_budget_usd": ("government budget (USD)", "ngân sách nhà nước (USD)"),
    "government_spending_usd": ("public spending so far (USD)", "chi ngân sách lũy kế (USD)"),
    "government_revenue_usd": ("public revenue so far (USD)", "thu ngân sách lũy kế (USD)"),
    "solid_generated_t": ("solid by-products generated (t)", "chất thải rắn phát sinh (tấn)"),
    "solid_exchanged_t": (
        "solids exchanged or recovered (t)",
        "chất thải rắn được trao đổi/thu hồi (tấn)",
    ),
    "solid_landfilled_t": ("solids not exchanged (t)", "chất thải rắn không được trao đổi (tấn)"),
    "solid_diversion_rate": ("share of solids diverted", "tỷ lệ chất thải rắn tránh chôn lấp"),
    "solid_sold_off_park_t": (
        "solids sold off the park (t)",
        "chất thải rắn bán ra ngoài KCN (tấn)",
    ),
    "water_reused_m3": ("treated water reused (m³)", "nước đã xử lý được tái sử dụng (m³)"),
    "water_greening_m3": (
        "treated water used for greening (m³)",
        "nước đã xử lý dùng tưới cây xanh (m³)",
    ),
    "energy_exchanged_mwh": ("energy exchanged (MWh)", "năng lượng trao đổi (MWh)"),
    "solar_capacity_kwp": ("rooftop solar installed (kWp)", "điện mặt trời áp mái đã lắp (kWp)"),
    "co2_avoided_counterfactual_t": (
        "CO2 avoided against the counterfactual (t)",
        "CO2 tránh được so với kịch bản đối chứng (tấn)",
    ),
    "co2_avoided_solar_t": ("CO2 avoided by solar (t)", "CO2 tránh được nhờ điện mặt trời (tấn)"),
    "private_benefit_usd": ("firms' benefit (USD)", "lợi ích của doanh nghiệp (USD)"),
    "social_benefit_usd": ("benefit to society (USD)", "lợi ích xã hội (USD)"),
    "cross_national_link_share": (
        "share of links across nationalities",
        "tỷ lệ liên kết giữa các quốc tịch khác nhau",
    ),
    "mean_degree": ("mean partners per linked firm", "số đối tác trung bình mỗi DN có liên kết"),
    "hub_degree": ("partners of the largest hub", "số đối tác của DN trung tâm lớn nhất"),
    "largest_component_share": (
        "share of members in the largest network",
        "tỷ lệ DN trong mạng liên kết lớn nhất",
    ),
    "mean_link_lifetime_months": (
        "mean life of ended links (months)",
        "tuổi thọ trung bình của liên kết đã chấm dứt (tháng)",
    ),
    "eip_score": ("EIP score (share of criteria met)", "điểm KCN sinh thái (tỷ lệ tiêu chí đạt)"),
    "eip_certified": ("EIP certifiable", "đủ điều kiện công nhận KCN sinh thái"),
    # EIP criteria (config.Criterion.metric)
    "shared_land_share": (
        "land for green space and shared infrastructure",
        "đất cây xanh, giao thông, hạ tầng dùng chung",
    ),
    "implemented_links": ("symbiosis links implemented", "số liên kết cộng sinh đã thực hiện"),
    "planning_share": (
        "share of firms in or planning a symbiosis",
        "tỷ lệ DN tham gia hoặc dự kiến cộng sinh",
    ),
    "years_compliant": ("years of compliance with the law", "số năm tuân thủ pháp luật"),
    "wastewater_treatment": (
        "central wastewater treatment in place",
        "có xử lý nước thải tập trung",
    ),
    "symbiosis_services": ("services supporting symbiosis", "dịch vụ hỗ trợ cộng sinh"),
    "information_sharing": (
        "cooperation and information-sharing mechanism",
        "cơ chế hợp tác và chia sẻ thông tin",
    ),
}


def t(key: str, lang: str = DEFAULT_LANGUAGE, **fmt: object) -> str:
    """The label ``key`` in ``lang`` (falling back to English), formatted with ``fmt``."""
    en, vi = LABELS[key]
    text = vi if lang == "vi" else en
    return text.format(**fmt) if fmt else text


def sector_name(sector: str, english: str, lang: str) -> str:
    """Sector label: the catalogue's English label, or our Vietnamese one."""
    return SECTORS_VI.get(sector, english) if lang == "vi" else english


def material_name(material: str, lang: str) -> str:
    """Material label; the catalogue keys read well in English once underscores go."""
    if lang == "vi" and material in MATERIALS_VI:
        return MATERIALS_VI[material]
    return material.replace("_", " ")


def facility_name(kind: str, lang: str) -> str:
    en, vi = FACILITIES.get(kind, (kind.replace("_", " "),) * 2)
    return vi if lang == "vi" else en


def kpi_name(key: str, lang: str) -> str:
    en, vi = KPIS.get(key, (key.replace("_", " "),) * 2)
    return vi if lang == "vi" else en


UNITS: dict[str, tuple[str, str]] = {
    "t": ("t", "tấn"),
    "MWh": ("MWh", "MWh"),
    "m3": ("m³", "m³"),
    "t CO2": ("t CO2", "tấn CO2"),
    "kWp": ("kWp", "kWp"),
    "usd": ("USD", "USD"),
    "USD": ("USD", "USD"),
    "month": ("month", "tháng"),
}


def unit(u: str, lang: str) -> str:
    """A unit as shown in ``lang`` (t → tấn)."""
    en, vi = UNITS.get(u, (u, u))
    return vi if lang == "vi" else en


def num(
    v: float, lang: str = DEFAULT_LANGUAGE, digits: int | None = None, trim: bool = False
) -> str:
    """A number for people: thousands separated, about 3 significant digits unless
    ``digits`` is given; in Vietnamese with "." for thousands and "," for decimals
    (1.234,5). ``trim`` drops trailing zeros (axis ticks)."""
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    if x != x or x in (float("inf"), float("-inf")):
        return "–"
    if digits is None:
        a = abs(x)
        digits = 0 if a >= 100 or x == int(x) and trim else 1 if a >= 1 else 2
        if trim and a < 1:
            digits = 3
    s = f"{x:,.{digits}f}"
    if trim and "." in s:
        s = s.rstrip("0").rstrip(".")
    if s in ("-0", "-0.0", "-0.00"):
        s = s[1:]
    if lang == "vi":
        s = s.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return s


def firm_name(name: str, sector: str, lang: str) -> str:
    """A firm as people read it: a roster's name as it is; a generated id such as
    ``food_processing-33`` as "Food processing firm 33" / "DN Chế biến thực phẩm 33"."""
    prefix = f"{sector}-"
    if name.startswith(prefix) and name[len(prefix) :].isdigit():
        n = name[len(prefix) :]
        if lang == "vi":
            return f"DN {SECTORS_VI.get(sector, sector.replace('_', ' '))} {n}"
        return f"{sector.replace('_', ' ').capitalize()} firm {n}"
    return name
