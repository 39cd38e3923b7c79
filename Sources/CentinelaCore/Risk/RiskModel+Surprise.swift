import Foundation

extension RiskModel {
    /// The parameters of the v2 model: evidence is scored by how surprising it is against what the
    /// facility's peers produce by chance, measured in bits (one bit: twice as unlikely).
    public struct Surprise: Hashable, Sendable, Codable {
        /// The share of reports carrying each feature (`ReportShares.Feature` descriptions) assumed
        /// before any peer has been counted; also the top of the shrinkage tree.
        public var defaultShares: [String: Double]
        /// How many reports a group needs before its own shares outweigh its parent's.
        public var priorReports: Double
        /// The smallest share ever assumed: no single feature gives more than −log2(floor) bits.
        public var shareFloor: Double
        /// Bits any report may carry by chance (adults together, category, tactics), not counted:
        /// what a report carries beyond them is shared between TOGETHER and METHODS.
        public var allowanceBits: Double
        /// Half-life of a report's TOGETHER and METHODS bits, in days.
        public var reportHalfLifeDays: Double
        /// Points per bit of each factor.
        public var togetherPoints: Double
        public var methodsPoints: Double
        /// REPEAT_ADULT: points per doubling of the decayed complaints naming the most-named adult
        /// beyond the first, and per doubling of the kinds of reporter naming that adult.
        public var repeatAdultPoints: Double
        public var repeatAdultReporterPoints: Double
        /// SILENCE: points per doubling of (1 + signs of silence); only outside reports of at least
        /// this severity count as unanswered.
        public var silencePoints: Double
        public var silenceMinimumSeverity: Double
        /// CROSS_FACILITY: points per doubling of (1 + the tied facilities' strengths). A facility
        /// tied by a person implicated at both, or by a network pattern, has strength 1; by a person
        /// only on this roster, or by alike tactics, `weakTieStrength`.
        public var crossFacilityPoints: Double
        public var weakTieStrength: Double
        /// LOAD: points per doubling of (1 + load) over (1 + the load the peers would have).
        public var loadPoints: Double
        /// The displayed score is `100 · total / (total + displayHalfTotal)`.
        public var displayHalfTotal: Double

        public func defaultShare(_ feature: ReportShares.Feature) -> Double {
            defaultShares[feature.description] ?? 1
        }

        func validate() throws(RiskModelError) {
            for key in defaultShares.keys where ReportShares.Feature(description: key) == nil {
                throw RiskModelError("surprise.defaultShares: unknown feature \"\(key)\"")
            }
            for feature in ReportShares.Feature.all {
                guard let share = defaultShares[feature.description], share > 0, share <= 1 else {
                    throw RiskModelError("surprise.defaultShares.\(feature) must be in (0, 1]")
                }
            }
            guard shareFloor > 0, shareFloor < 1, priorReports > 0, priorReports.isFinite else {
                throw RiskModelError("surprise.shareFloor must be in (0, 1) and surprise.priorReports a positive number")
            }
            let nonNegative: [(String, Double)] = [
                ("allowanceBits", allowanceBits), ("togetherPoints", togetherPoints), ("methodsPoints", methodsPoints),
                ("repeatAdultPoints", repeatAdultPoints), ("repeatAdultReporterPoints", repeatAdultReporterPoints),
                ("silencePoints", silencePoints), ("silenceMinimumSeverity", silenceMinimumSeverity),
                ("crossFacilityPoints", crossFacilityPoints), ("weakTieStrength", weakTieStrength), ("loadPoints", loadPoints),
            ]
            for (name, value) in nonNegative where !(value >= 0 && value.isFinite) {
                throw RiskModelError("surprise.\(name) must be zero or more")
            }
            guard reportHalfLifeDays > 0, reportHalfLifeDays.isFinite, displayHalfTotal > 0, displayHalfTotal.isFinite else {
                throw RiskModelError("surprise.reportHalfLifeDays and surprise.displayHalfTotal must be positive numbers")
            }
        }
    }

    /// The model for the second release (docs/risk-model.md, "v2"). Default shares are what a
    /// national register's ordinary complaints carry; they only matter until the first full
    /// rescoring has counted the deployment's own reports. Band limits were fitted on simulated
    /// countries (several seeds) so that about 0.5 % of facilities are critical and 2 % high.
    public static let v2: RiskModel = {
        var model = RiskModel.v1
        model.id = "v2"
        model.surprise = Surprise(
            defaultShares: [
                "adults>=2": 0.01, "adults>=3": 0.002,
                "severity>=2": 0.45, "severity>=3": 0.3, "severity>=4": 0.07,
                "tag:threats": 0.08, "tag:isolation": 0.08, "tag:removal_from_classroom": 0.04, "tag:gifts_grooming": 0.03,
                "tag:several_adults_present": 0.01, "tag:off_premises": 0.01, "tag:photographing": 0.005, "tag:filming": 0.002,
                "tag:sedation": 0.001, "tag:children_made_to_watch": 0.001, "tag:disguise": 0.001, "tag:staged_act": 0.001,
            ],
            priorReports: 300,
            shareFloor: 0.0002,
            allowanceBits: 10,
            reportHalfLifeDays: 730,
            togetherPoints: 1,
            methodsPoints: 1,
            repeatAdultPoints: 1.5,
            repeatAdultReporterPoints: 1,
            silencePoints: 1.5,
            silenceMinimumSeverity: 3,
            crossFacilityPoints: 8,
            weakTieStrength: 0.5,
            loadPoints: 1,
            displayHalfTotal: 25)
        // Totals 8.3, 16.7 and 25.
        model.elevatedFrom = 25
        model.highFrom = 40
        model.criticalFrom = 50
        return model
    }()

    /// The built-in models by id.
    public static let builtIn: [String: RiskModel] = ["v1": .v1, "v2": .v2]

    /// v2: the same inputs and instant give the same assessment byte for byte; every factor only
    /// grows with more or heavier evidence (docs/risk-model.md, "Monotone").
    func assessBySurprise(
        _ evidence: RiskEvidence, reports: [RiskEvidence.Report], _ context: Context, _ surprise: Surprise
    ) -> RiskAssessment {
        let asOf = context.asOf
        let shares = evidence.featureShares ?? FeatureShares.shrunk([], model: surprise)
        var raw = 0.0
        for report in reports { raw += context.weight(report) * context.decay(report, halfLife: loadHalfLifeDays) }
        let (together, methods) = unusualReports(reports, shares: shares, context, surprise)
        let reasons = ranked([
            together, methods,
            crossFacilityBySurprise(evidence, surprise),
            repeatAdultBySurprise(reports, context, surprise),
            silenceBySurprise(reports, context, surprise),
            loadBySurprise(raw: raw, count: reports.count, evidence: evidence, surprise),
        ])
        let total = tenths(reasons.reduce(0) { $0 + $1.points })
        let score = rounded(100 * total / (total + surprise.displayHalfTotal), 2)
        let modelBand = band(for: score)
        let (band, manual) = Self.inForce(modelBand, evidence.manualOverride, asOf: asOf)
        return RiskAssessment(
            facilityID: evidence.facilityID, modelID: id, asOf: asOf, score: score, total: total, modelBand: modelBand,
            band: band, floor: nil, manualOverride: manual, load: rounded(raw, 6), reasons: reasons)
    }

    /// What one report weighs in bits: several adults named together (TOGETHER) and its category
    /// and tactics beyond what any report may carry by chance (METHODS).
    struct ReportBits {
        var together = 0.0
        var methods = 0.0
        /// All the report's bits, before the allowance.
        var raw = 0.0
        var features: [(ReportShares.Feature, Double)] = []
    }

    func bits(of report: RiskEvidence.Report, shares: FeatureShares, _ surprise: Surprise) -> ReportBits {
        var result = ReportBits()
        var together = 0.0
        let adults = report.adults.count
        if adults >= 2 {
            let feature = ReportShares.Feature.adults(atLeast: Swift.min(adults, 3))
            let bits = -log2(shares[feature])
            result.features.append((feature, bits))
            // Each adult beyond the third: one more doubling of 1 + (adults − 3).
            together = bits + log2(Double(Swift.max(1, adults - 2)))
        }
        var methods = 0.0
        let severity = self.severity[report.category] ?? 1
        if let level = ReportShares.Feature.severityThresholds.last(where: { severity >= Double($0) }) {
            let bits = -log2(shares[.severity(atLeast: level)])
            methods += bits
            result.features.append((.severity(atLeast: level), bits))
        }
        for tag in report.modusOperandi.sorted(by: { $0.rawValue < $1.rawValue }) {
            let bits = -log2(shares[.tag(tag)])
            methods += bits
            result.features.append((.tag(tag), bits))
        }
        // The allowance comes off the report as a whole, shared in proportion: what is left grows
        // with either part, so neither factor can fall when the other's evidence grows.
        let sum = together + methods
        let excess = Swift.max(0, sum - surprise.allowanceBits)
        result.raw = sum
        if excess > 0 {
            result.together = excess * together / sum
            result.methods = excess * methods / sum
        }
        return result
    }

    private func unusualReports(
        _ reports: [RiskEvidence.Report], shares: FeatureShares, _ context: Context, _ surprise: Surprise
    ) -> (RiskAssessment.Reason, RiskAssessment.Reason) {
        var together = 0.0
        var methods = 0.0
        var togetherItems: [(Double, RiskAssessment.Evidence)] = []
        var methodsItems: [(Double, RiskAssessment.Evidence)] = []
        for report in reports {
            let bits = bits(of: report, shares: shares, surprise)
            guard bits.together > 0 || bits.methods > 0 else { continue }
            let weight = (credibility[report.status] ?? 1) * context.young(report)
            let decay = context.decay(report, halfLife: surprise.reportHalfLifeDays)
            let described = bits.features.map { "\($0.0) \(figure($0.1)) bits" }.joined(separator: ", ")
            func item(_ share: Double, _ note: String) -> (Double, RiskAssessment.Evidence) {
                let contribution = share * weight * decay
                return (
                    contribution,
                    .init(
                        report: report.id, weight: rounded(weight, 4), decay: rounded(decay, 4), contribution: rounded(contribution, 4),
                        note:
                            "\(note)of the report's \(figure(bits.raw)) bits (\(described)), \(figure(share)) beyond the \(figure(surprise.allowanceBits)) any report may carry fall here"
                    )
                )
            }
            if bits.together > 0 {
                let entry = item(bits.together, "\(report.adults.count) adults named together; ")
                together += entry.0
                togetherItems.append(entry)
            }
            if bits.methods > 0 {
                let entry = item(bits.methods, "")
                methods += entry.0
                methodsItems.append(entry)
            }
        }
        let peers = shares.reports > 0 ? "the peers' \(Int(shares.reports)) report(s)" : "the model's default shares"
        return (
            reason(
                .together, points: together * surprise.togetherPoints, value: together,
                summary:
                    "\(togetherItems.count) report(s) naming two or more adults together and rarer than any report may be by chance (more than \(figure(surprise.allowanceBits)) bits against \(peers); two adults together weigh \(figure(-log2(shares[.adults(atLeast: 2)]))) bits), × credibility × young children × decay (half-life \(figure(surprise.reportHalfLifeDays)) days): \(figure(together)) bits × \(figure(surprise.togetherPoints)) point(s).",
                evidence: byContribution(togetherItems)),
            reason(
                .methods, points: methods * surprise.methodsPoints, value: methods,
                summary:
                    "\(methodsItems.count) report(s) whose category and tactics make them rarer than any report may be by chance (more than \(figure(surprise.allowanceBits)) bits against \(peers)), × credibility × young children × decay (half-life \(figure(surprise.reportHalfLifeDays)) days): \(figure(methods)) bits × \(figure(surprise.methodsPoints)) point(s).",
                evidence: byContribution(methodsItems))
        )
    }

    private func repeatAdultBySurprise(_ reports: [RiskEvidence.Report], _ context: Context, _ surprise: Surprise) -> RiskAssessment.Reason
    {
        var complaints: [RiskEvidence.AdultKey: (count: Double, reports: [IncidentReport.ID], kinds: Set<IncidentReport.ReporterType>)] =
            [:]
        for report in reports {
            let decay = context.decay(report, halfLife: repeatAdultHalfLifeDays)
            for adult in report.adults {
                complaints[adult, default: (0, [], [])].count += decay
                complaints[adult, default: (0, [], [])].reports.append(report.id)
                complaints[adult, default: (0, [], [])].kinds.insert(report.reporterType)
            }
        }
        func points(_ value: (count: Double, reports: [IncidentReport.ID], kinds: Set<IncidentReport.ReporterType>)) -> Double {
            surprise.repeatAdultPoints * Swift.max(0, log2(1 + value.count) - 1)
                + surprise.repeatAdultReporterPoints * log2(Double(Swift.max(1, value.kinds.count)))
        }
        let top = complaints.map { ($0.key, $0.value, points($0.value)) }
            .sorted { $0.2 != $1.2 ? $0.2 > $1.2 : $0.0 < $1.0 }.first
        guard let top, top.2 > 0 else {
            return reason(.repeatAdult, points: 0, value: 0, summary: "No adult is named in more than one complaint.", evidence: [])
        }
        let kinds = top.1.kinds.map(\.rawValue).sorted()
        return reason(
            .repeatAdult, points: top.2, value: top.1.count,
            summary:
                "The most-named adult appears in \(top.1.reports.count) complaint(s) from \(kinds.count) kind(s) of reporter (\(kinds.joined(separator: ", "))), decayed count \(figure(top.1.count)) (half-life \(figure(repeatAdultHalfLifeDays)) days): \(figure(surprise.repeatAdultPoints)) points per doubling beyond the first complaint, \(figure(surprise.repeatAdultReporterPoints)) per doubling of the kinds of reporter.",
            evidence: [
                .init(
                    adult: top.0.description, reports: top.1.reports, contribution: rounded(top.1.count, 4),
                    note: "decayed complaints naming this adult")
            ])
    }

    /// As v1's SILENCE (outside reports judged once their window closes, late school reports), but
    /// only outside reports of a serious category count, and signs add by doublings: most schools
    /// leave some minor complaints to the outside reporter.
    private func silenceBySurprise(_ reports: [RiskEvidence.Report], _ context: Context, _ surprise: Surprise) -> RiskAssessment.Reason {
        let items = silenceSigns(reports, context, outsideFrom: surprise.silenceMinimumSeverity)
        let units = log2(1 + Double(items.count))
        return reason(
            .silence, points: surprise.silencePoints * units, value: Double(items.count),
            summary:
                "\(items.count) sign(s) of silence in the last \(figure(lookbackDays)) days (serious outside reports the school did not report within \(figure(silenceWindowDays)) days, school reports filed over \(figure(silenceWindowDays)) days after discovery); \(figure(surprise.silencePoints)) points per doubling of 1 + signs.",
            evidence: items)
    }

    /// Other facilities tied by linking, each by its strongest tie: a person implicated there and
    /// here, or a network pattern, counts 1; a person on this roster only, or alike tactics, less.
    private func crossFacilityBySurprise(_ evidence: RiskEvidence, _ surprise: Surprise) -> RiskAssessment.Reason {
        var strength: [Facility.ID: Double] = [:]
        var items: [RiskAssessment.Evidence] = []
        for adult in evidence.linkedAdults.sorted(by: { $0.key < $1.key }) where !adult.implicatedAt.isEmpty {
            let tie = adult.implicatedHere ? 1 : surprise.weakTieStrength
            for facility in adult.implicatedAt where facility != evidence.facilityID {
                strength[facility] = Swift.max(strength[facility] ?? 0, tie)
            }
            let naming = evidence.reports.filter { $0.adults.contains(adult.key) }.map(\.id)
            items.append(
                .init(
                    adult: adult.key.description, reports: naming.isEmpty ? nil : naming,
                    note: adult.implicatedHere
                        ? "implicated here and, as the same person, at \(adult.implicatedAt.count) other facilit(ies)"
                        : "on this facility's roster; implicated, as the same person, at \(adult.implicatedAt.count) other facilit(ies)"))
        }
        for pattern in evidence.patterns.sorted(by: { $0.id.uuidString < $1.id.uuidString }) {
            // Alike tactics are a lead, and the more facilities share them the less each says:
            // one such pattern gives at most twice a weak tie in all.
            let others = pattern.facilities.subtracting([evidence.facilityID])
            let tie = pattern.kind == .network ? 1 : surprise.weakTieStrength * Swift.min(1, 2 / Double(Swift.max(1, others.count)))
            for facility in others { strength[facility] = Swift.max(strength[facility] ?? 0, tie) }
            items.append(
                .init(
                    reports: pattern.reports.sorted { $0.description < $1.description },
                    note:
                        "\(pattern.kind == .network ? "network" : "modus-operandi") pattern \(pattern.id.uuidString.lowercased()) spanning \(pattern.facilities.count) facilities"
                ))
        }
        // Added in a fixed order, so that the sum is the same on every run.
        let value = strength.sorted { $0.key.description < $1.key.description }.reduce(0) { $0 + $1.value }
        return reason(
            .crossFacility, points: surprise.crossFacilityPoints * log2(1 + value), value: value,
            summary: strength.isEmpty
                ? "No pattern or implicated adult is shared with another facility, as of the last linking run."
                : "Tied to \(strength.count) other facilit(ies) by a pattern or an implicated adult, as of the last linking run, with strength \(figure(value)) (1 per facility where the same person is implicated or in a network pattern, \(figure(surprise.weakTieStrength)) by a roster entry, alike tactics at most \(figure(2 * surprise.weakTieStrength)) per pattern); \(figure(surprise.crossFacilityPoints)) points per doubling of 1 + strength.",
            evidence: items)
    }

    private func loadBySurprise(raw: Double, count: Int, evidence: RiskEvidence, _ surprise: Surprise) -> RiskAssessment.Reason {
        var expected = 0.0
        var summary = "Decayed incident load \(figure(raw)) from \(count) report(s), half-life \(figure(loadHalfLifeDays)) days"
        if let enrolment = evidence.enrolment, enrolment > 0, let baseline = evidence.peerBaseline {
            expected = baseline.loadPerHundredChildren * Double(enrolment) / 100
            summary +=
                "; \(figure(expected)) expected for \(enrolment) children at the peers' median of \(figure(baseline.loadPerHundredChildren)) per 100 (\(baseline.peers) peers)"
        } else {
            summary += evidence.enrolment.map { $0 > 0 } ?? false ? "; no peer baseline yet" : "; enrolment unknown, so no peer adjustment"
        }
        let doublings = Swift.max(0, log2((1 + raw) / (1 + expected)))
        summary += "; \(figure(surprise.loadPoints)) points per doubling of 1 + load over 1 + expected (\(figure(doublings)))."
        return reason(.load, points: surprise.loadPoints * doublings, value: raw, summary: summary, evidence: [])
    }

    private func reason(
        _ code: RiskAssessment.FactorCode, points: Double, value: Double, summary: String, evidence: [RiskAssessment.Evidence]
    ) -> RiskAssessment.Reason {
        let kept = Array(evidence.prefix(Self.evidenceLimit))
        return .init(
            code: code, points: tenths(points), cap: nil, value: rounded(value, 4), summary: summary, evidence: kept,
            omittedEvidence: evidence.count > kept.count ? evidence.count - kept.count : nil)
    }
}
