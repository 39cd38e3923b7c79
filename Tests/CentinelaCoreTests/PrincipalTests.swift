import CentinelaCore
import Testing

@Suite struct PrincipalTests {
    static let north = Jurisdiction.ID.random()
    static let south = Jurisdiction.ID.random()
    static let schoolA = FacilityReference(id: .random(), jurisdictionID: north)
    static let schoolB = FacilityReference(id: .random(), jurisdictionID: north)
    static let schoolC = FacilityReference(id: .random(), jurisdictionID: south)

    static let school = Principal(id: .random(), holder: "Directora A", role: .school, facilityIDs: [schoolA.id])
    static let regulator = Principal(id: .random(), holder: "SEP Norte", role: .regulator, jurisdictionIDs: [north])
    static let admin = Principal(id: .random(), holder: "Operador", role: .admin)

    @Test func aSchoolHandlesOnlyItsOwnFacility() {
        let p = Self.school
        #expect(p.maySee(Self.schoolA) && p.mayHandleReports(of: Self.schoolA) && p.mayMaintainRoster(of: Self.schoolA))
        for other in [Self.schoolB, Self.schoolC] {
            #expect(!p.maySee(other))
            #expect(!p.mayHandleReports(of: other))
            #expect(!p.mayMaintainRoster(of: other))
        }
        #expect(!p.mayDecideOnReports(of: Self.schoolA))
        #expect(!p.mayAdminister)
    }

    @Test func aRegulatorHandlesItsJurisdictionAndDecides() {
        let p = Self.regulator
        for inside in [Self.schoolA, Self.schoolB] {
            #expect(p.maySee(inside) && p.mayHandleReports(of: inside) && p.mayDecideOnReports(of: inside))
            #expect(!p.mayMaintainRoster(of: inside))
        }
        #expect(!p.maySee(Self.schoolC))
        #expect(!p.mayHandleReports(of: Self.schoolC))
        #expect(!p.mayDecideOnReports(of: Self.schoolC))
        #expect(!p.mayAdminister)
    }

    @Test func theOperatorAdministersButReadsNoCase() {
        let p = Self.admin
        #expect(p.mayAdminister)
        for facility in [Self.schoolA, Self.schoolC] {
            #expect(p.maySee(facility))
            #expect(!p.mayHandleReports(of: facility))
            #expect(!p.mayDecideOnReports(of: facility))
            #expect(!p.mayMaintainRoster(of: facility))
        }
    }
}
