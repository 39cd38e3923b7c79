import Foundation

extension RiskModel {
    /// Scores one facility as of `asOf` from the reports received before it. Pure and
    /// deterministic: the same evidence and instant give the same assessment, byte for byte.
    /// Each factor is explained in docs/risk-model.md.
    public func assess(_ evidence: RiskEvidence, asOf: Date) -> RiskAssessment {
        // A fixed order makes every floating-point sum, and so every figure, reproducible.
        let reports = evidence.reports.filter { $0.receivedAt < asOf }.sorted {
            ($0.receivedAt, $0.id.description) < ($1.receivedAt, $1.id.description)
        }
        let context = Context(model: self, asOf: asOf)
        if let surprise { return assessBySurprise(evidence, reports: reports, context, surprise) }
        let loadReason = load(reports, evidence: evidence, context)
        let reasons = ranked([
            loadReason.reason,
            multiAdult(reports, context),
            coordinated(reports, context),
            repeatAdult(reports, context),
            repeatFacility(reports, context),
            silence(reports, context),
            crossFacility(evidence),
        ])
        let total = tenths(reasons.reduce(0) { $0 + $1.points })
        let score = Swift.min(100, total)

        var modelBand = band(for: score)
        let severe = reports.filter {
            $0.adults.count >= coordinatedSevereAdults && (severity[$0.category] ?? 0) >= coordinatedSevereMinimumSeverity
        }
        var floor: RiskAssessment.BandFloor?
        if !severe.isEmpty {
            floor = .init(band: coordinatedSevereBand, rule: "COORDINATED_SEVERE", reports: severe.map(\.id))
            modelBand = Swift.max(modelBand, coordinatedSevereBand)
        }
        let (band, manual) = Self.inForce(modelBand, evidence.manualOverride, asOf: asOf)
        return RiskAssessment(
            facilityID: evidence.facilityID, modelID: id, asOf: asOf, score: score, total: total, modelBand: modelBand,
            band: band, floor: floor, manualOverride: manual, load: rounded(loadReason.rawLoad, 6), reasons: reasons)
    }

    /// The reasons, the most points first; ties in the model's order of factors.
    func ranked(_ reasons: [RiskAssessment.Reason]) -> [RiskAssessment.Reason] {
        let order = RiskAssessment.FactorCode.of(self)
        return reasons.sorted {
            $0.points != $1.points
                ? $0.points > $1.points
                : order.firstIndex(of: $0.code)! < order.firstIndex(of: $1.code)!
        }
    }

    /// The band in force: a regulator's manual band while it lasts, the model's otherwise.
    static func inForce(
        _ modelBand: RiskBand, _ override: RiskEvidence.ManualOverride?, asOf: Date
    )
        -> (RiskBand, RiskEvidence.ManualOverride?)
    {
        guard let override, override.setAt <= asOf, asOf < override.expiresAt else { return (modelBand, nil) }
        return (override.band, override)
    }

    struct Context {
        let model: RiskModel
        let asOf: Date

        func ageInDays(_ report: RiskEvidence.Report) -> Double {
            Swift.max(0, asOf.timeIntervalSince(report.receivedAt)) / 86_400
        }

        func decay(_ report: RiskEvidence.Report, halfLife: Double) -> Double {
            pow(2, -ageInDays(report) / halfLife)
        }

        func isRecent(_ report: RiskEvidence.Report) -> Bool { ageInDays(report) < model.lookbackDays }

        func weight(_ report: RiskEvidence.Report) -> Double {
            let tags = report.modusOperandi.sorted { $0.rawValue < $1.rawValue }
            let mo = Swift.min(model.modusOperandiCap, tags.reduce(1) { $0 + (model.modusOperandiWeights[$1] ?? 0) })
            return (model.severity[report.category] ?? 1) * (model.credibility[report.status] ?? 1) * mo * young(report)
        }

        /// The multiplier for a report affecting a child under `youngChildAge`, else 1.
        func young(_ report: RiskEvidence.Report) -> Double {
            (report.youngestChildAge.map { $0 < model.youngChildAge } ?? false) ? model.youngChildMultiplier : 1
        }
    }

    /// The most evidence items a reason lists; the rest are counted in `omittedEvidence`.
    static let evidenceLimit = 25

    private func reason(
        _ code: RiskAssessment.FactorCode, _ factor: Factor, units: Double, summary: String,
        evidence: [RiskAssessment.Evidence]
    ) -> RiskAssessment.Reason {
        let kept = Array(evidence.prefix(Self.evidenceLimit))
        return .init(
            code: code, points: tenths(factor.points(units)), cap: factor.cap, value: rounded(units, 4), summary: summary,
            evidence: kept, omittedEvidence: evidence.count > kept.count ? evidence.count - kept.count : nil)
    }

    // MARK: Factors

    private func load(
        _ reports: [RiskEvidence.Report], evidence: RiskEvidence, _ context: Context
    )
        -> (reason: RiskAssessment.Reason, rawLoad: Double)
    {
        var raw = 0.0
        var items: [(Double, RiskAssessment.Evidence)] = []
        for report in reports {
            let weight = context.weight(report)
            let decay = context.decay(report, halfLife: loadHalfLifeDays)
            raw += weight * decay
            items.append(
                (
                    weight * decay,
                    .init(report: report.id, weight: rounded(weight, 4), decay: rounded(decay, 4), contribution: rounded(weight * decay, 4))
                ))
        }
        var units = raw
        var summary = "Decayed incident load \(figure(raw)) from \(reports.count) report(s), half-life \(figure(loadHalfLifeDays)) days"
        if let enrolment = evidence.enrolment, enrolment > 0, let baseline = evidence.peerBaseline {
            let expected = baseline.loadPerHundredChildren * Double(enrolment) / 100
            units = Swift.max(0, raw - expected)
            summary +=
                "; \(figure(expected)) expected for \(enrolment) children at the peers' median of \(figure(baseline.loadPerHundredChildren)) per 100 (\(baseline.peers) peers), excess \(figure(units))"
        } else {
            summary +=
                evidence.enrolment.map { $0 > 0 } ?? false
                ? "; no peer baseline yet, so no adjustment" : "; enrolment unknown, so no peer adjustment"
        }
        summary += "; \(figure(load.pointsPerUnit)) points per unit, at most \(figure(load.cap))."
        return (reason(.load, load, units: units, summary: summary, evidence: byContribution(items)), raw)
    }

    private func multiAdult(_ reports: [RiskEvidence.Report], _ context: Context) -> RiskAssessment.Reason {
        var byAdult: [RiskEvidence.AdultKey: [IncidentReport.ID]] = [:]
        for report in reports where context.isRecent(report) {
            for adult in report.adults { byAdult[adult, default: []].append(report.id) }
        }
        let evidence = byAdult.keys.sorted().map { RiskAssessment.Evidence(adult: $0.description, reports: byAdult[$0]) }
        return reason(
            .multiAdult, multiAdult, units: Double(Swift.max(0, byAdult.count - 1)),
            summary:
                "\(byAdult.count) distinct adult(s) implicated in the last \(figure(lookbackDays)) days; \(figure(multiAdult.pointsPerUnit)) points for each beyond the first, at most \(figure(multiAdult.cap)).",
            evidence: evidence)
    }

    private func coordinated(_ reports: [RiskEvidence.Report], _ context: Context) -> RiskAssessment.Reason {
        var units = 0.0
        var items: [(Double, RiskAssessment.Evidence)] = []
        for report in reports where report.adults.count >= 2 {
            let decay = context.decay(report, halfLife: coordinatedHalfLifeDays)
            units += decay
            items.append(
                (
                    decay,
                    .init(
                        report: report.id, decay: rounded(decay, 4), contribution: rounded(decay, 4), note: "\(report.adults.count) adults")
                ))
        }
        return reason(
            .coordinated, coordinated, units: units,
            summary:
                "\(items.count) report(s) implicating two or more adults together, decayed count \(figure(units)) (half-life \(figure(coordinatedHalfLifeDays)) days); \(figure(coordinated.pointsPerUnit)) points each, at most \(figure(coordinated.cap)).",
            evidence: byContribution(items))
    }

    private func repeatAdult(_ reports: [RiskEvidence.Report], _ context: Context) -> RiskAssessment.Reason {
        var complaints: [RiskEvidence.AdultKey: (count: Double, reports: [IncidentReport.ID])] = [:]
        for report in reports {
            let decay = context.decay(report, halfLife: repeatAdultHalfLifeDays)
            for adult in report.adults.sorted() {
                complaints[adult, default: (0, [])].count += decay
                complaints[adult, default: (0, [])].reports.append(report.id)
            }
        }
        let top = complaints.sorted { $0.value.count != $1.value.count ? $0.value.count > $1.value.count : $0.key < $1.key }.first
        let units = top.map { log2(1 + $0.value.count) } ?? 0
        var evidence: [RiskAssessment.Evidence] = []
        var summary = "No adult is named in a complaint."
        if let top {
            evidence.append(
                .init(
                    adult: top.key.description, reports: top.value.reports, contribution: rounded(top.value.count, 4),
                    note: "decayed complaints naming this adult"))
            summary =
                "The most-named adult appears in \(top.value.reports.count) complaint(s), decayed count \(figure(top.value.count)) (half-life \(figure(repeatAdultHalfLifeDays)) days); log2(1 + \(figure(top.value.count))) = \(figure(units)) × \(figure(repeatAdult.pointsPerUnit)) points, at most \(figure(repeatAdult.cap))."
        }
        return reason(.repeatAdult, repeatAdult, units: units, summary: summary, evidence: evidence)
    }

    private func repeatFacility(_ reports: [RiskEvidence.Report], _ context: Context) -> RiskAssessment.Reason {
        let recent = reports.filter(context.isRecent)
        let sources = Set(recent.map(\.reporterType)).map(\.rawValue).sorted()
        let units = sources.count >= 2 ? Double(Swift.max(0, recent.count - 1)) : 0
        let summary =
            sources.count >= 2
            ? "\(recent.count) report(s) in the last \(figure(lookbackDays)) days from \(sources.count) kinds of reporter (\(sources.joined(separator: ", "))); \(figure(repeatFacility.pointsPerUnit)) points for each beyond the first, at most \(figure(repeatFacility.cap))."
            : "\(recent.count) report(s) in the last \(figure(lookbackDays)) days, not from two or more independent kinds of reporter."
        return reason(
            .repeatFacility, repeatFacility, units: units, summary: summary,
            evidence: units > 0 ? [.init(reports: recent.map(\.id), note: sources.joined(separator: ", "))] : [])
    }

    /// Outside reports the school never answered within the window, and the school's own late
    /// reports. An outside report is judged only once its window has closed, so that a report
    /// arriving later can never take back points already given (docs/risk-model.md, "Monotone").
    private func silence(_ reports: [RiskEvidence.Report], _ context: Context) -> RiskAssessment.Reason {
        let items = silenceSigns(reports, context, outsideFrom: 0)
        return reason(
            .silence, silence, units: Double(items.count),
            summary:
                "\(items.count) sign(s) of silence in the last \(figure(lookbackDays)) days (outside reports the school did not report within \(figure(silenceWindowDays)) days, school reports filed over \(figure(silenceWindowDays)) days after discovery); \(figure(silence.pointsPerUnit)) points each, at most \(figure(silence.cap)).",
            evidence: items)
    }

    /// Outside reports (of at least `outsideFrom` severity) the school did not answer within the
    /// window, each judged once its window has closed; and the school's own reports filed late.
    func silenceSigns(_ reports: [RiskEvidence.Report], _ context: Context, outsideFrom: Double) -> [RiskAssessment.Evidence] {
        let window = silenceWindowDays * 86_400
        let schoolReports = reports.filter { $0.reporterType == .schoolStaff }
        var items: [RiskAssessment.Evidence] = []
        for report in reports where context.isRecent(report) {
            if outsideReporters.contains(report.reporterType) {
                guard (severity[report.category] ?? 1) >= outsideFrom else { continue }
                let closes = report.receivedAt.addingTimeInterval(window)
                guard closes <= context.asOf else { continue }
                let answered = schoolReports.contains { $0.receivedAt < closes && Self.sameIncident($0, report) }
                if !answered {
                    items.append(
                        .init(
                            report: report.id,
                            note:
                                "from \(report.reporterType.rawValue); no school report on the same incident within \(figure(silenceWindowDays)) days"
                        ))
                }
            } else if report.reporterType == .schoolStaff {
                let discovered = Date(timeIntervalSince1970: Double(report.discoveredOn.daysSinceEpoch) * 86_400)
                let delay = report.receivedAt.timeIntervalSince(discovered) / 86_400
                if delay > silenceWindowDays {
                    items.append(.init(report: report.id, note: "school report filed \(Int(delay)) days after discovery"))
                }
            }
        }
        return items
    }

    /// Other facilities tied to this one by linking: one unit per facility, however many ties.
    private func crossFacility(_ evidence: RiskEvidence) -> RiskAssessment.Reason {
        let linked = evidence.linkedFacilities
        var items: [RiskAssessment.Evidence] = []
        for adult in evidence.linkedAdults.sorted(by: { $0.key < $1.key }) where !adult.implicatedAt.isEmpty {
            let naming = evidence.reports.filter { $0.adults.contains(adult.key) }.map(\.id)
            items.append(
                .init(
                    adult: adult.key.description, reports: naming.isEmpty ? nil : naming,
                    note: adult.implicatedHere
                        ? "implicated here and, as the same person, at \(adult.implicatedAt.count) other facilit(ies)"
                        : "on this facility's roster; implicated, as the same person, at \(adult.implicatedAt.count) other facilit(ies)"))
        }
        for pattern in evidence.patterns.sorted(by: { $0.id.uuidString < $1.id.uuidString }) {
            items.append(
                .init(
                    reports: pattern.reports.sorted { $0.description < $1.description },
                    note:
                        "\(pattern.kind == .network ? "network" : "modus-operandi") pattern \(pattern.id.uuidString.lowercased()) spanning \(pattern.facilities.count) facilities"
                ))
        }
        return reason(
            .crossFacility, crossFacility, units: Double(linked.count),
            summary: linked.isEmpty
                ? "No pattern or implicated adult is shared with another facility, as of the last linking run."
                : "Shares a pattern or an implicated adult with \(linked.count) other facilit(ies), as of the last linking run; \(figure(crossFacility.pointsPerUnit)) points each, at most \(figure(crossFacility.cap)).",
            evidence: items)
    }

    /// Two reports describe the same incident when their occurrence periods overlap, give or take
    /// a week (reporters often date an incident approximately).
    static func sameIncident(_ a: RiskEvidence.Report, _ b: RiskEvidence.Report) -> Bool {
        let slack = 7
        return a.occurredFrom.daysSinceEpoch - slack <= b.occurredTo.daysSinceEpoch
            && b.occurredFrom.daysSinceEpoch - slack <= a.occurredTo.daysSinceEpoch
    }

    func byContribution(_ items: [(Double, RiskAssessment.Evidence)]) -> [RiskAssessment.Evidence] {
        items.enumerated().sorted { lhs, rhs in
            lhs.element.0 != rhs.element.0 ? lhs.element.0 > rhs.element.0 : lhs.offset < rhs.offset
        }.map(\.element.1)
    }
}

/// A value rounded to `places` decimals, as shown in reasons.
func rounded(_ value: Double, _ places: Int) -> Double {
    let scale = pow(10, Double(places))
    return (value * scale).rounded() / scale
}

/// Points are shown, and added up, in tenths.
func tenths(_ value: Double) -> Double { rounded(value, 1) }

/// A figure for a summary sentence: at most two decimals, no trailing zeros (no `String(format:)`,
/// which is slow on Linux and would be called millions of times in a full rescoring).
func figure(_ value: Double) -> String {
    let hundredths = Int64((value * 100).rounded())
    let sign = hundredths < 0 ? "-" : ""
    let magnitude = hundredths.magnitude
    let whole = magnitude / 100
    let fraction = magnitude % 100
    if fraction == 0 { return sign + String(whole) }
    if fraction % 10 == 0 { return sign + String(whole) + "." + String(fraction / 10) }
    return sign + String(whole) + "." + (fraction < 10 ? "0" : "") + String(fraction)
}
